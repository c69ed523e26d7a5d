"""Run folders: atomic folder writes, JSON files and the dataset hash (the git commit is in provenance).

A training run, a tiny model or a release bundle is written into a temporary folder beside its
target and renamed into place at the end, so an interrupted command never leaves half a folder.
"""

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

DATASET_FILES = ("manifest.json", "train.jsonl", "valid.jsonl", "test.jsonl", "norms.json")


def replace_folder(path, write):
    """Call ``write(temporary_folder)``, then move the folder to ``path`` (replacing it).

    On any error the temporary folder is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial"))
    try:
        write(temporary)
        if path.exists():
            shutil.rmtree(path)
        temporary.rename(path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return path


def write_json(path, obj):
    """Write ``obj`` as indented JSON atomically."""
    from modelgen.contracts import atomic_write

    return atomic_write(path, lambda handle: json.dump(obj, handle, indent=1, default=str))


def dataset_hash(dataset_dir):
    """sha256 over the dataset's manifest, records and norms (the audio is hashed in the manifest)."""
    dataset_dir = Path(dataset_dir)
    digest = hashlib.sha256()
    for name in DATASET_FILES:
        file = dataset_dir / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()
