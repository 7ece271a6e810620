"""`aicenter dataset push` of a folder of 1,000 files: interrupted, it resumes with only
what is missing, as the server's own records count."""

import hashlib
import os
import signal
import time

import pytest

from datasets.models import Dataset
from tests.client.conftest import write_tree
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
COUNT = 1000


def contents(version: str) -> dict[str, str]:
    return {f"part-{n % 10}/file-{n:04}.txt": f"{version} {n}\n" * 20 for n in range(COUNT)}


def stored(project) -> dict[str, tuple[str, object]]:
    dataset = Dataset.objects.get(project=project, name="big")
    return {f.path: (f.sha256_id, f.updated_at) for f in dataset.files.all()}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_push_interrupted_halfway_sends_only_the_missing_files_again(aicenter, project, tmp_path):
    folder = write_tree(tmp_path / "data", contents("v1"))
    first = aicenter("dataset", "push", str(folder), "--dataset", "big", "--path", "raw", "-q")
    assert first.returncode == 0, first.stderr
    assert "Sent 1000 files" in first.stdout
    assert {p: h for p, (h, _) in stored(project).items()} == {
        f"raw/{p}": sha(c) for p, c in contents("v1").items()
    }

    changed = contents("v2")
    write_tree(folder, changed)
    pushing = aicenter.start("dataset", "push", str(folder), "--dataset", "big", "--path", "raw")
    new = {f"raw/{p}": sha(c) for p, c in changed.items()}

    def sent_so_far() -> int:
        return sum(1 for p, (h, _) in stored(project).items() if new[p] == h)

    # Killed once its first request is stored: eight go at once, fifty files each, so
    # waiting for more lets a quiet machine finish the push before the kill.
    wait_for(lambda: sent_so_far() > 0, timeout=120, every=0.02, what="the first files")
    os.killpg(pushing.pid, signal.SIGKILL)
    pushing.wait(timeout=10)
    time.sleep(2)  # requests the server had already received finish
    before = stored(project)
    held_then = sum(1 for p, (h, _) in before.items() if new[p] == h)
    assert 0 < held_then < COUNT, "the push was not interrupted halfway"

    resumed = aicenter("dataset", "push", str(folder), "--dataset", "big", "--path", "raw", "-q")
    assert resumed.returncode == 0, resumed.stderr
    after = stored(project)
    rewritten = [p for p in after if after[p][1] != before[p][1]]
    assert len(rewritten) == COUNT - held_then
    assert f"Sent {COUNT - held_then} files" in resumed.stdout
    assert {p: h for p, (h, _) in after.items()} == new

    again = aicenter("dataset", "push", str(folder), "--dataset", "big", "--path", "raw", "-q")
    assert "Sent 0 files" in again.stdout
    assert stored(project) == after


def test_a_push_with_delete_makes_the_dataset_folder_match(aicenter, project, tmp_path):
    folder = write_tree(tmp_path / "data", {"a.txt": "a", "b/c.txt": "c", "b/d.txt": "d"})
    assert aicenter("dataset", "push", str(folder), "--dataset", "big", "-q").returncode == 0
    (folder / "b" / "c.txt").unlink()
    (folder / "a.txt").write_text("new a")
    kept = aicenter("dataset", "push", str(folder), "--dataset", "big", "-q")
    assert "Sent 1 files" in kept.stdout and set(stored(project)) == {"a.txt", "b/c.txt", "b/d.txt"}
    done = aicenter("dataset", "push", str(folder), "--dataset", "big", "--delete", "-q")
    assert done.returncode == 0, done.stderr
    assert "1 deleted" in done.stdout
    assert set(stored(project)) == {"a.txt", "b/d.txt"}
