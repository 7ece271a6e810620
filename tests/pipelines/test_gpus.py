"""A host's GPUs, each held by one run at a time (fake devices: no GPU here)."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipelines.runner import gpus
from pipelines.runner.gpus import Claims, GpusUnavailable, KilledWhileWaiting, device_nodes
from pipelines.runner.sandbox import gpu_devices

ROOT = Path(__file__).resolve().parents[2]
CLAIMING = """\
import json, sys, time
from pathlib import Path
from pipelines.runner.gpus import Claims
claims = Claims(Path(sys.argv[1]), ["0", "1", "2", "3"])
print(json.dumps(claims.claim(int(sys.argv[2]), sys.argv[3])), flush=True)
time.sleep(3)  # the claim lasts as long as its process
"""


def test_the_devices_come_from_gpu_devices(settings):
    settings.GPU_DEVICES = ["0", "1"]
    assert gpus.host_devices() == ["0", "1"]


def test_concurrent_claims_from_several_processes_get_disjoint_devices(tmp_path):
    wanted = [1, 2, 1, 1, 2, 1]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMING, str(tmp_path), str(count), f"run-{index}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index, count in enumerate(wanted)
    ]
    claimed = [json.loads(process.stdout.readline()) for process in processes]
    for process in processes:
        process.wait(timeout=30)
    held = [device for devices in claimed if devices for device in devices]
    assert sorted(held) == ["0", "1", "2", "3"]  # all given, none twice
    for devices, count in zip(claimed, wanted, strict=True):
        assert devices is None or len(devices) == count


def test_a_released_device_and_one_of_a_dead_worker_are_free_again(tmp_path):
    claims = Claims(tmp_path, ["0", "1"])
    assert claims.claim(1, "run-1") == ["0"]
    assert claims.claim(1, "run-2") == ["1"]
    assert claims.claim(1, "run-3") is None
    claims.release("run-1")
    assert claims.claim(1, "run-3") == ["0"]
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    held = json.loads((tmp_path / "gpus.json").read_text())
    held["1"]["pid"] = int(dead)  # as if the worker holding it had died
    (tmp_path / "gpus.json").write_text(json.dumps(held))
    assert claims.claim(1, "run-4") == ["1"]


def test_a_run_needing_more_gpus_than_the_worker_has_is_told_so(tmp_path):
    with pytest.raises(GpusUnavailable, match="needs 3 GPUs and this worker has 2"):
        Claims(tmp_path, ["0", "1"]).claim(3, "run-1")


def test_the_sandbox_binds_only_the_runs_own_gpus_and_the_drivers_shared_nodes(tmp_path):
    for name in ["nvidia0", "nvidia1", "nvidia2", "nvidiactl", "nvidia-uvm", "nvidia-caps/c1"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    nodes = [node.name for node in device_nodes(["1", "2"], dev=tmp_path)]
    assert nodes == ["nvidia1", "nvidia2", "nvidiactl", "nvidia-uvm", "c1"]


def test_a_run_without_gpus_gets_no_device_in_its_sandbox():
    assert gpu_devices([]) == ["--ro-bind-try", "/sys", "/sys"]


def test_a_run_waits_for_a_held_device_and_is_told_once(tmp_path):
    claims = Claims(tmp_path, ["0"])
    claims.claim(1, "run-1")
    told = []
    releaser = threading.Timer(1.2, lambda: claims.release("run-1"))
    releaser.start()
    assert claims.wait_for(1, "run-2", stop=lambda: False, waiting=lambda: told.append(1)) == ["0"]
    assert told == [1]


def test_a_kill_ends_the_wait_for_a_device(tmp_path):
    claims = Claims(tmp_path, ["0"])
    claims.claim(1, "run-1")
    with pytest.raises(KilledWhileWaiting):
        claims.wait_for(1, "run-2", stop=lambda: True, waiting=lambda: None)
