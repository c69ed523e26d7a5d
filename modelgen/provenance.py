"""Provenance helpers: the git commit of the code, sha256 of files and of configs.

Every run folder (dataset, training run, advice batch) records where it came from with these,
so two folders can be compared by hash rather than by trust.
"""

import hashlib
import json
import subprocess
from pathlib import Path

CHUNK_BYTES = 1 << 20
ROOT = Path(__file__).resolve().parent.parent


def file_sha256(path):
    """sha256 hex digest of a file's bytes (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def files_sha256(paths, *, root):
    """``{path relative to root (POSIX): sha256}`` for every path, sorted by path."""
    root = Path(root)
    return {Path(path).relative_to(root).as_posix(): file_sha256(path) for path in sorted(map(Path, paths))}


def config_sha256(config):
    """sha256 of a JSON-ready config (keys sorted, so key order does not matter)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit():
    """The commit of the running code (``+dirty`` when tracked files changed); None outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}+dirty" if dirty else commit
