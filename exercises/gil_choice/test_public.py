"""Tests you can run yourself: `python -m pytest test_public.py`.

They check the results and their order on small inputs. They do not check which kind of
worker ran them: the grader does (see "How it is graded" in README.md).
"""
import pytest

from choose import run_cpu_tasks, run_io_tasks
from workloads import fetch_metadata, fit_peak


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_cpu_results_follow_the_items(workers):
    seeds = [3, 8, 7, 12, 11, 0, 19, 4, 23]  # slow fits first and between quick ones
    assert run_cpu_tasks(fit_peak, seeds, workers) == [fit_peak(s) for s in seeds]


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_io_results_follow_the_items(workers):
    runs = [7, 4, 8, 11, 12, 16]  # an 80 ms answer first, 20 ms ones after
    assert run_io_tasks(fetch_metadata, runs, workers) == [fetch_metadata(r) for r in runs]


def test_no_items():
    assert run_cpu_tasks(fit_peak, [], 2) == []
    assert run_io_tasks(fetch_metadata, [], 2) == []


def test_more_workers_than_items():
    assert run_cpu_tasks(fit_peak, [5], 4) == [fit_peak(5)]
    assert run_io_tasks(fetch_metadata, [5, 6], 8) == [fetch_metadata(5), fetch_metadata(6)]
