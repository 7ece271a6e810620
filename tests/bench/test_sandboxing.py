"""The overhead benchmark's sandbox rows: runs with RUN_SANDBOX=on against off, and
bubblewrap alone."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django_q.brokers import get_broker
from django_q.tasks import async_task

from bench.sandboxing import bubblewrap_alone, queued_on
from bench.service import Bench

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_tasks_queued_on_a_cluster_go_to_its_queue_and_later_ones_to_the_default():
    queues = [get_broker(), get_broker(list_key="unsandboxed-workers")]
    for queue in queues:
        queue.purge_queue()
    with queued_on("unsandboxed-workers"):
        async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)
    assert [queue.queue_size() for queue in queues] == [1, 1]
    for queue in queues:
        queue.purge_queue()


def test_bubblewrap_alone_times_true_in_the_sandbox_against_true_alone(tmp_path):
    row = bubblewrap_alone(Bench(tmp_path, 3, quick=False, stores=[]))
    assert len(row.samples) == len(row.baseline_samples) == 3
    assert row.median > 0 and row.baseline_median > 0  # the ratio is the benchmark's to say


@pytest.mark.integration
def test_the_quick_overhead_benchmark_compares_sandboxed_runs_with_unsandboxed_ones(tmp_path):
    output = tmp_path / "figures.json"
    command = [sys.executable, "-m", "bench", "--quick", "--only", "overhead"]
    done = subprocess.run(
        [*command, "--output", str(output)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    rows = {row["measure"]: row for row in json.loads(output.read_text())["rows"]}
    sandboxed = rows["training run of flowers-stdlib on its worker, RUN_SANDBOX=on"]
    assert sandboxed["baseline"] == "RUN_SANDBOX=off" and sandboxed["baseline_median"] > 0
    difference = rows["sandbox: sandboxed minus unsandboxed run, on the worker"]
    assert difference["target"]["text"] == "< 50 ms"
    assert rows["bubblewrap alone: /bin/true in the sandbox"]["ratio"] > 1
