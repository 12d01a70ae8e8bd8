"""What a grading run prints in a log: one line per finished job with the ETA, and why
jobs were graded again."""
from __future__ import annotations

import io

from grader.model import ExerciseResult
from grader.progress import LogProgress, regraded


def result(points: float, status: str = "graded") -> ExerciseResult:
    return ExerciseResult("race_counter", "Fix the race", 10.0, points, (), status=status,
                          duration=2.04)


def test_one_line_per_finished_job_with_the_score_the_seconds_and_the_eta() -> None:
    now = [100.0]
    log = LogProgress([2.0, 2.0, 8.0], io.StringIO(), clock=lambda: now[0])
    now[0] = 104.0  # twice as slow as expected: the ETA doubles what is left
    line = log.finished("alice", "race_counter", result(10))
    assert line == "[1/3] alice · race_counter 10/10 in 2.0 s, eta 20 s"
    log.finished("bob", "race_counter", result(2.5), seconds=1.5)
    line = log.finished("carol", "race_counter", None)
    assert line.startswith("[3/3] carol · race_counter error in 0.0 s") and line.endswith("eta 0 s")
    assert log.stream.getvalue().count("\n") == 3
    grader_error = LogProgress([1.0], io.StringIO()).finished("dan", "x", result(0, "error"))
    assert "0/10 (grader error)" in grader_error


def test_the_end_of_a_run_says_why_jobs_were_graded_again() -> None:
    assert regraded({}, 18) == "Nothing changed: all 18 results taken from the gradebook."
    why = {"a · x": "not judged: the machine was busy", "b · x": "new",
           "c · x": "not judged: the machine was busy"}
    assert regraded(why, 15) == "Graded 3 jobs: 2 not judged: the machine was busy; 1 new."
