"""The limits rows of the overhead benchmark: what enforcing a run's limits adds."""

import pytest

from bench.limits import enforcing, sharing
from bench.service import Bench
from pipelines.runner import cgroups


@pytest.mark.django_db
def test_enforcing_limits_is_timed_against_true_alone_with_its_target(tmp_path):
    limited, added = enforcing(Bench(tmp_path, 3, quick=False, stores=[]))
    assert len(limited.samples) == len(limited.baseline_samples) == 3
    # Which is faster is the benchmark's to report: on a shared machine either may be.
    assert limited.median > 0 and limited.baseline_median > 0
    assert added.target.text == "< 50 ms" and len(added.samples) == 3


@pytest.mark.skipif(
    isinstance(cgroups.worker_hierarchy(), cgroups.Unusable), reason="no usable control group"
)
def test_two_runs_of_one_core_are_timed_at_once_against_in_turn(tmp_path):
    row = sharing(Bench(tmp_path, 1, quick=True, stores=[]))
    assert len(row.samples) == len(row.baseline_samples) == 1
    assert row.median > 0.1
