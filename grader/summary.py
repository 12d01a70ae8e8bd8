"""The table printed at the end of a grading run: one row per student.

On a terminal it is a rich table with coloured scores; piped into a file or a CI log it is
plain aligned text, so logs stay greppable and free of escape codes and box drawing.
"""
from __future__ import annotations

from typing import Sequence, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.exports import exercise_ids, failure_words
from grader.model import ExerciseResult, SubmissionResult
from grader.report.text import number, result_notes


def _cell(ex: ExerciseResult | None) -> str:
    if ex is None:
        return "-"
    if ex.status == "not_submitted" and not ex.overridden:
        return "missing"
    return f"{number(ex.points)}/{number(ex.max_points)}" + ("*" if ex.overridden else "")


def _style(ex: ExerciseResult | None) -> str:
    if ex is None or ex.status == "not_submitted":
        return "dim"
    if ex.points >= ex.max_points:
        return "green"
    return "yellow" if ex.points > 0 else "red"


def _why(result: SubmissionResult) -> str:
    """The kinds of failure of one student, so the table says why, not only how much."""
    words = dict.fromkeys(w for ex in result.exercises for w in failure_words(ex))
    return ", ".join(words)


def rows(results: Sequence[SubmissionResult]) -> tuple[list[str], list[list[str]]]:
    ids = exercise_ids(results)
    header = ["student", *ids, "total", "lost points to"]
    body = [[r.student, *(_cell(r.exercise(i)) for i in ids),
             f"{number(r.points)}/{number(r.max_points)}", _why(r)] for r in results]
    return header, body


def plain(results: Sequence[SubmissionResult]) -> str:
    header, body = rows(results)
    table = [header, *body]
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    # Names and reasons read left-aligned, scores right-aligned.
    def line(row: list[str]) -> str:
        cells = [cell.ljust(w) if c in (0, len(row) - 1) else cell.rjust(w)
                 for c, (cell, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, body)])


def rich_table(results: Sequence[SubmissionResult]) -> Table:
    ids = exercise_ids(results)
    table = Table(title="Grades", title_justify="left", header_style="bold")
    table.add_column("student", style="bold")
    for ex_id in ids:
        table.add_column(ex_id, justify="right")
    table.add_column("total", justify="right", style="bold")
    table.add_column("lost points to", style="dim")
    for r in results:
        cells = [Text(_cell(r.exercise(i)), style=_style(r.exercise(i))) for i in ids]
        table.add_row(r.student, *cells, f"{number(r.points)}/{number(r.max_points)}", _why(r))
    return table


def notes(results: Sequence[SubmissionResult]) -> list[str]:
    """One line per file graded under another name or found instead of a missing one."""
    return [f"{r.student} · {ex.exercise}: {note}"
            for r in results for ex in r.exercises for note in result_notes(ex)]


def print_summary(results: Sequence[SubmissionResult], console: Console | None = None,
                  stream: TextIO | None = None) -> None:
    console = console or Console(file=stream)
    if console.is_terminal:
        console.print(rich_table(results))
    else:
        print(plain(results), file=console.file)
    said = notes(results)
    if said:
        print("\nNotes (* set by the instructor):", file=console.file)
        for line in said:
            print(f"  {line}", file=console.file)
