"""What does a job cost on Dask (`grade --cluster local`) against the local batch?

Measured in the same run, on the same jobs, one after the other:

1. the round trip alone: BENCH_CLUSTER_JOBS empty jobs (a function that returns a fixed
   result at once) through the local batch's threads and through an embedded Dask
   cluster; per job, after the cluster is up. The cluster's start-up is printed apart:
   it is paid once per run, not per job.
2. real jobs: the demo class on race_counter twice (12 jobs, hidden tests in their sandbox)
   graded both ways, wall time per job, and the difference as a share of a job.

The machine is shared: the load average is printed, and each figure is the median of
BENCH_REPEATS runs with the range.

    python bench/run.py cluster
    BENCH_CLUSTER_JOBS=500 BENCH_REPEATS=5 python bench/run.py cluster
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.model import ExerciseResult  # noqa: E402


def _empty_job(payload):  # runs on a Dask worker: no grading, only the round trip
    from grader.distributed import Answer
    return Answer(ExerciseResult(payload.exercise, "", 1, 1, ()))


def _jobs(exercises: list[str], copies: int):
    from grader.batch import plan
    from grader.catalog import load_catalog
    from grader.submissions import discover
    catalog = load_catalog(ROOT / "exercises", lenient=True)
    chosen = [catalog.get(e) for e in exercises]
    todo = plan(discover(ROOT / "demo" / "class", catalog), chosen, None).todo
    return todo * copies


def _batch(todo, grade, jobs: int) -> float:
    from grader import batch
    from grader.sandbox import cancel_all
    done = []
    start = time.perf_counter()
    batch.run(todo, grade, jobs=jobs, on_done=done.append, stop=cancel_all)
    assert len(done) == len(todo)
    return time.perf_counter() - start


def _warm_up(catalog: str) -> None:  # on each worker: what its first job would import
    from grader import distributed, runner  # noqa: F401
    from grader.catalog import load_catalog
    loaded = load_catalog(Path(catalog), lenient=True)
    distributed._catalogs[catalog] = (loaded, {e.id: e.content_hash() for e in loaded.exercises})
    distributed._mark_this_worker()


def _cluster(todo, grade, cores: int) -> tuple[float, float]:
    """(start-up seconds, seconds from the cluster being up to the last job stored).
    Start-up includes the workers' imports: paid once per worker, as the local batch
    pays them once per run before this benchmark's clock starts."""
    from grader import distributed
    marks: dict[str, float] = {}
    done = []

    def up(client) -> None:
        client.run(_warm_up, str(ROOT / "exercises"))
        marks["up"] = time.perf_counter()

    start = time.perf_counter()
    distributed.run(todo, distributed.ClusterSpec("local", cores=cores),
                    catalog=ROOT / "exercises", on_done=done.append, grade=grade,
                    on_client=up)
    end = time.perf_counter()
    assert len(done) == len(todo) and all(d.error is None for d in done)
    return marks["up"] - start, end - marks["up"]


def _spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    return (f"{statistics.median(values) * scale:.1f}{unit} "
            f"(range {min(values) * scale:.1f}-{max(values) * scale:.1f})")


def run() -> None:
    if importlib.util.find_spec("distributed") is None:
        print("skipped: Dask distributed is not installed (pip install '.[cluster]')")
        return
    # _empty_job is pickled by reference: the local cluster's workers inherit sys.path.
    from grader.cores import usable_cores
    cores = usable_cores().usable
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    count = int(os.environ.get("BENCH_CLUSTER_JOBS", "200"))
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{cores} usable cores, load average {load}, median of {repeats} runs")

    empty = _jobs(["race_counter", "transfer_deadlock", "parallel_histogram"], count // 18 + 1)[:count]
    local_empty = lambda job, gate: ExerciseResult(job.exercise.id, "", 1, 1, ())  # noqa: E731
    batch_s, startup_s, cluster_s = [], [], []
    for _ in range(repeats):
        batch_s.append(_batch(empty, local_empty, cores) / len(empty))
        up, busy = _cluster(empty, _empty_job, cores)
        startup_s.append(up)
        cluster_s.append(busy / len(empty))
    overhead = [c - b for c, b in zip(cluster_s, batch_s)]
    print(f"  round trip, {len(empty)} empty jobs: local batch {_spread(batch_s, 1e3, ' ms')}"
          f" per job, --cluster local:{cores} {_spread(cluster_s, 1e3, ' ms')} per job")
    print(f"  per-job overhead of --cluster local: {_spread(overhead, 1e3, ' ms')}; "
          f"cluster start-up once per run: {_spread(startup_s, 1, ' s')}")

    from grader import runner
    real = _jobs(["race_counter"], 2)
    grade = lambda job, gate: runner.grade_submission(job.submission, [job.exercise], gate=gate).exercises[0]  # noqa: E731
    batch_real, cluster_real = [], []
    for _ in range(repeats):
        batch_real.append(_batch(real, grade, cores) / len(real))
        _, busy = _cluster(real, None, cores)
        cluster_real.append(busy / len(real))
    share = [(c - b) / b for c, b in zip(cluster_real, batch_real)]
    print(f"  real jobs (demo class, race_counter, {len(real)} jobs): local batch "
          f"{_spread(batch_real, 1, ' s')} per job, --cluster local {_spread(cluster_real, 1, ' s')}"
          f" per job after start-up; difference {_spread(share, 100, ' %')} of a job")


if __name__ == "__main__":
    run()
