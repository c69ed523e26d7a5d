"""Provenance helpers: file and config hashes, the git commit."""

import hashlib
import re

from modelgen.provenance import ROOT, config_sha256, file_sha256, files_sha256, git_commit


def test_a_file_hash_is_the_sha256_of_its_bytes(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 3_000_000)
    assert file_sha256(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


def test_file_hashes_are_keyed_by_relative_posix_paths(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.txt").write_text("b")
    (tmp_path / "a.txt").write_text("a")
    hashes = files_sha256([tmp_path / "d" / "b.txt", tmp_path / "a.txt"], root=tmp_path)
    assert list(hashes) == ["a.txt", "d/b.txt"]


def test_a_config_hash_ignores_key_order_but_not_values():
    assert config_sha256({"a": 1, "b": [1, 2]}) == config_sha256({"b": [1, 2], "a": 1})
    assert config_sha256({"a": 1}) != config_sha256({"a": 2})


def test_the_git_commit_is_a_hex_id_possibly_marked_dirty_or_none_outside_git():
    commit = git_commit()
    if (ROOT / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit)
    else:
        assert commit is None
