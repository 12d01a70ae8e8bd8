"""The timing exercises' points policy: the untouched stub (correct, serial) earns at most
30% of the exercise, as each README says; the bug in the title costs the rest."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.catalog import load_exercise
from grader.runner import grade_exercise
from grader.submissions import Submission

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("exercise_id", ["gil_choice", "parallel_histogram"])
def test_the_serial_stub_earns_at_most_thirty_percent(exercise_id: str) -> None:
    exercise = load_exercise(ROOT / "exercises" / exercise_id)
    files = {name: exercise.path / name for name in exercise.files}
    result = grade_exercise(Submission(f"stub {exercise_id}", files, exercise.path), exercise)
    assert result.status == "graded", result.message
    earned = {t.name: t.points for t in result.tests if t.points}
    assert result.points <= 0.3 * result.max_points, (result.points, earned)
    # What it earns is the correctness of the serial loop, and nothing for workers.
    assert all("order" in name or "counts" in name or "edge" in name for name in earned), earned
    notes = " ".join(t.message for t in result.tests)
    assert "processs" not in notes
