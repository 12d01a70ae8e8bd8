"""The terminal summary with a class of twelve exercises stays readable at 100 columns."""
from __future__ import annotations

import io

from rich.console import Console

from grader.report import summary
from grader.model import ExerciseResult, SubmissionResult, TestOutcome

IDS = ("bank_account connection_limit dining_philosophers download_pool event_pipeline "
       "gil_choice once_cache parallel_histogram process_timeout race_counter readers_writers "
       "transfer_deadlock").split()


def twelve(students: int = 6) -> list[SubmissionResult]:
    results = []
    for n in range(students):
        exercises = []
        for k, ex_id in enumerate(IDS):
            if (n + k) % 7 == 0:
                exercises.append(ExerciseResult(ex_id, ex_id, 10, 0, (), status="not_submitted"))
                continue
            points = 10 if (n * k) % 3 else 6.5
            verdict = "passed" if points == 10 else ("race" if k % 2 else "deadlock")
            exercises.append(ExerciseResult(ex_id, ex_id, 10, points, (
                TestOutcome("test_a", "a", 10, points, verdict),)))
        results.append(SubmissionResult(f"Maximiliana Featherstonehaugh-{n} (10000{n})",
                                        tuple(exercises)))
    return results


def test_plain_summary_of_twelve_exercises_fits_100_columns() -> None:
    text = summary.plain(twelve())
    lines = text.splitlines()
    assert max(map(len, lines)) <= 100, max(lines, key=len)
    assert lines[0].split()[:4] == ["student", "BA", "CL", "DPh"]
    assert "DPo" in lines[0] and "TD" in lines[0]
    legend = text[text.index("Columns:"):]
    for short, ex_id in summary.short_names(IDS).items():
        assert f"{ex_id}" in legend  # every short name is explained
    assert "m not submitted" in legend
    # Every student's total is there, whole.
    for r in twelve():
        assert any(line.split()[-1:] and f"{r.points:g}/120" in line for line in lines)


def test_a_class_that_fits_keeps_its_long_names() -> None:
    full = ExerciseResult("race_counter", "Race", 10, 10, (TestOutcome("t", "t", 10, 10, "passed"),))
    text = summary.plain([SubmissionResult("ann", (full,)), SubmissionResult("bob", (full,))])
    assert "Columns:" not in text and text.splitlines()[0].split()[:2] == ["student", "race_counter"]


def test_rich_summary_of_twelve_exercises_fits_a_100_column_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True, color_system=None)
    summary.print_summary(twelve(), console=console)
    lines = out.getvalue().splitlines()
    assert max(map(len, lines)) <= 100
    header = next(line for line in lines if "student" in line)
    for short in summary.short_names(IDS).values():
        assert short in header
    assert any("Columns:" in line for line in lines)
    assert sum("/120" in line for line in lines) == 6  # one whole total per student
