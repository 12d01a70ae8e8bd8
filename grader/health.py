"""Telling a broken setup from a class of broken submissions.

When every submitted job of a run ends the same way before a single hidden test started
(a copied .venv bubblewrap cannot see, a missing dependency in the test process), the
students are not the cause, and 0 points each would be a wrong grade for everyone. The
same symptom can come from one student whose file kills the process at import, so the
grader checks with a control: the exercise's own stub, which is known to import and let
the tests start. If the stub fails the same way, the setup is broken.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from grader.catalog import Exercise
from grader.model import ExerciseResult, SubmissionResult

if TYPE_CHECKING:
    from grader.submissions import Submission


def never_started(result: ExerciseResult) -> bool:
    """No hidden test of the exercise ran: the grader failed, or every test was not judged."""
    if result.status == "not_submitted":
        return False
    if result.status == "error":
        return True
    return bool(result.tests) and all(t.verdict == "not_judged" for t in result.tests)


def _cause(result: ExerciseResult) -> str:
    said = result.message or (result.tests[0].message if result.tests else "")
    return said.removeprefix("did not run: ")


def suspicion(results: Sequence[SubmissionResult]) -> tuple[str, str] | None:
    """(exercise id, cause) when every submitted job never started, all for one cause."""
    started = [ex for r in results for ex in r.exercises if ex.status != "not_submitted"]
    if not started or not all(never_started(ex) for ex in started):
        return None
    causes = {_cause(ex) for ex in started}
    if len(causes) != 1:
        return None
    return started[0].exercise, causes.pop()


def setup_failure(results: Sequence[SubmissionResult], exercises: Sequence[Exercise],
                  grade: Callable[[Submission, Exercise], ExerciseResult] | None = None) -> str | None:
    """The cause, in one line, when the setup (not the students) is broken; else None.
    GRADE(submission, exercise) grades the control; by default the runner's."""
    suspected = suspicion(results)
    if suspected is None:
        return None
    exercise_id, cause = suspected
    exercise = next((e for e in exercises if e.id == exercise_id), None)
    if exercise is None:
        return None
    from grader.submissions import Submission
    if grade is None:
        from grader.runner import grade_exercise
        grade = grade_exercise
    stub = Submission("the exercise's stub", {n: exercise.path / n for n in exercise.files},
                      exercise.path)
    control = grade(stub, exercise)
    if not never_started(control):
        return None  # the stub's tests start: the students' files are the cause
    return f"every job stopped before any hidden test started, the exercise's own stub too: {cause}"

