"""The push's hash cache spares hashing files that did not change."""

import hashlib
import os

from aicenter_client.push import hash_all, local_files

from tests.client.conftest import write_tree


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_unchanged_files_are_not_hashed_again_and_changed_ones_are(tmp_path, monkeypatch):
    monkeypatch.setenv("AICENTER_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_tree(tmp_path / "data", {"a.txt": "a", "b/c.txt": "c"})
    hashed = []
    first = hash_all(local_files(folder), hashed.append)
    assert first == {"a.txt": sha(b"a"), "b/c.txt": sha(b"c")}
    assert sorted(f.path for f in hashed) == ["a.txt", "b/c.txt"]

    hashed.clear()
    assert hash_all(local_files(folder), hashed.append) == first
    assert hashed == []

    (folder / "a.txt").write_text("changed")
    os.utime(folder / "a.txt", ns=(1, 1))  # another mtime, whatever the clock's resolution
    again = hash_all(local_files(folder), hashed.append)
    assert [f.path for f in hashed] == ["a.txt"]
    assert again["a.txt"] == sha(b"changed")


def test_links_are_not_followed(tmp_path):
    folder = write_tree(tmp_path / "data", {"a.txt": "a"})
    (folder / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    assert [f.path for f in local_files(folder)] == ["a.txt"]
