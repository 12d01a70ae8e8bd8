"""A class with a timing exercise settles: the next run regrades only what was not judged.

Graded through the real command (`python -m grader grade`, real test processes), while a
process spins a core. Whether a verdict is judged must not depend on that load, so the
test makes it deterministic with the exercise's own thresholds: `free_share` above 1 means
no free-core probe ever finds the machine quiet (the wall-clock speedup is then shown with
a "not counted" note on every passing test), a `concurrency` no run can reach keeps the
parallelism verdict from being judged at all (the grader's own parallel version does not
reach it either, which the rule reads as "the machine was busy"), and one any run in
worker processes reaches has it judged.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.model import NOT_JUDGED

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = "parallel_histogram"

# Small workloads: the point is what is stored, not the figures.
SMALL = {"counts": {"events": 600, "workers": [1, 2]},
         "timed": {"events_per_worker": 8000}}


def catalogue(root: Path, **parallelism: float) -> Path:
    """A catalogue holding only parallel_histogram, with small workloads and PARALLELISM."""
    folder = root / EXERCISE
    shutil.copytree(ROOT / "exercises" / EXERCISE, folder)
    spec = yaml.safe_load((folder / "exercise.yaml").read_text())
    for key, values in SMALL.items():
        spec["params"][key].update(values)
    spec["params"]["parallelism"].update(parallelism)
    (folder / "exercise.yaml").write_text(yaml.safe_dump(spec))
    return root


def a_class(root: Path) -> Path:
    """alice hands in the reference solution, bob the untouched serial stub."""
    for student, source in (("alice", ROOT / "solutions" / EXERCISE),
                            ("bob", ROOT / "exercises" / EXERCISE)):
        (root / student / EXERCISE).mkdir(parents=True)
        shutil.copy(source / "histogram.py", root / student / EXERCISE / "histogram.py")
    return root


def grade(klass: Path, exercises: Path, out: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(klass), "--exercises",
                           str(exercises), "--out", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def stored(out: Path) -> dict[str, tuple[int, int, dict]]:
    """student -> (run id that stored it, final, the result)."""
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return {s: (run, final, json.loads(r)) for s, run, final, r in db.execute(
            "SELECT student, run_id, final, result FROM results")}


@pytest.fixture
def busy_core():
    """A foreign process spinning one core while the class is graded."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield
    spinner.kill()
    spinner.wait()


def test_only_what_was_not_judged_is_graded_again(tmp_path: Path, busy_core: None) -> None:
    klass = a_class(tmp_path / "class")
    out = tmp_path / "out"
    exercises = catalogue(tmp_path / "exercises", free_share=1.01, concurrency=50.0,
                          max_rounds=3, budget=2.0)
    first = grade(klass, exercises, out)
    assert "Graded 2 jobs: 2 new." in first, first[-2000:]
    before = stored(out)
    alice_tests = {t["name"]: t for t in before["alice"][2]["tests"]}
    parallel = alice_tests["test_work_runs_in_parallel"]
    # Busy (the reference did not reach the concurrency either) or, on a machine loaded
    # enough that the rounds outlast the 2 s budget first, the budget: either way not
    # judged, and retried by the next run.
    reason = parallel["not_judged_reason"]
    assert parallel["judged"] is False and reason in ("busy", "budget"), parallel
    assert NOT_JUDGED[reason][1], reason
    assert parallel["verdict"] == "passed", parallel  # not judged: it never fails a student
    assert before["alice"][1] == 0  # not final
    bob_tests = {t["name"]: t for t in before["bob"][2]["tests"]}
    assert bob_tests["test_work_runs_in_parallel"]["verdict"] == "serial", bob_tests["test_work_runs_in_parallel"]
    assert all(t["judged"] for t in bob_tests.values()) and before["bob"][1] == 1, bob_tests

    second = grade(klass, exercises, out)
    assert "Graded 1 job: 1 not judged: " in second, second[-2000:]
    assert NOT_JUDGED[reason][0] in second, second[-2000:]
    after = stored(out)
    assert after["bob"][0] == before["bob"][0]  # bob's result, judged, was taken as it was
    assert after["alice"][0] > before["alice"][0]  # alice's was graded again


def test_a_pass_with_a_not_counted_wall_clock_note_is_final(tmp_path: Path,
                                                             busy_core: None) -> None:
    klass = a_class(tmp_path / "class")
    out = tmp_path / "out"
    # Any run in worker processes reaches this concurrency, however loaded the machine;
    # three rounds at most, in a budget never reached: every verdict is judged.
    exercises = catalogue(tmp_path / "exercises", free_share=1.01, concurrency=0.2,
                          max_rounds=3, budget=600.0)
    grade(klass, exercises, out)
    alice = stored(out)["alice"]
    parallel = {t["name"]: t for t in alice[2]["tests"]}["test_work_runs_in_parallel"]
    assert parallel["verdict"] == "passed" and parallel["judged"] is True
    assert parallel["details"]["speedup"]["counted"] is False  # shown, not counted
    assert alice[1] == 1
    assert "Nothing changed: all 2 results taken from the gradebook." in grade(klass, exercises, out)
