"""The table printed at the end of a grading run: one row per student.

On a terminal it is a rich table with coloured scores; piped into a file or a CI log it is
plain aligned text, so logs stay greppable and free of escape codes and box drawing.
"""
from __future__ import annotations

from typing import Sequence, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.model import ExerciseResult, SubmissionResult
from grader.report.exports import exercise_ids, failure_words
from grader.report.text import number, result_notes, short_names


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


# Wider than this, the table switches to short column names and a legend.
WIDTH = 100
# A student's name is cut to this in the compact table (the reports have it whole).
COMPACT_NAME = 20


def rows(results: Sequence[SubmissionResult], compact: bool = False
         ) -> tuple[list[str], list[list[str]]]:
    ids = exercise_ids(results)
    names = short_names(ids) if compact else {i: i for i in ids}
    cell = _short_cell if compact else _cell
    header = ["student", *(names[i] for i in ids), "total", "lost points to"]
    body = [[_name(r.student, compact), *(cell(r.exercise(i)) for i in ids),
             f"{number(r.points)}/{number(r.max_points)}", _why(r)] for r in results]
    return header, body


def _name(student: str, compact: bool) -> str:
    if compact and len(student) > COMPACT_NAME:
        return student[:COMPACT_NAME - 1] + "…"
    return student


def _short_cell(ex: ExerciseResult | None) -> str:
    """Points only (the legend gives each exercise's maximum): '-' not graded, 'm' missing."""
    if ex is None:
        return "-"
    if ex.status == "not_submitted" and not ex.overridden:
        return "m"
    return number(ex.points) + ("*" if ex.overridden else "")


def legend(results: Sequence[SubmissionResult], width: int = WIDTH) -> str:
    """'RC race_counter /10 · TD transfer_deadlock /10 ...', wrapped at WIDTH."""
    ids = exercise_ids(results)
    names = short_names(ids)
    tops: dict[str, float] = {}
    for r in results:
        for ex in r.exercises:
            tops.setdefault(ex.exercise, ex.max_points)
    items = [f"{names[i]} {i} /{number(tops[i])}" for i in ids] + ["m not submitted", "* set by the instructor"]
    lines, line = [], "Columns:"
    for item in items:
        if len(line) + 3 + len(item) > width:
            lines.append(line)
            line = " " * len("Columns:")
        line += (" " if line.strip() == "Columns:" or not line.strip() else " · ") + item
    lines.append(line)
    return "\n".join(lines)


def plain(results: Sequence[SubmissionResult], width: int = WIDTH) -> str:
    text = _plain(results, compact=False)
    if max(len(line) for line in text.splitlines()) <= width:
        return text
    return _plain(results, compact=True, width=width) + "\n\n" + legend(results, width)


def _plain(results: Sequence[SubmissionResult], compact: bool, width: int = WIDTH) -> str:
    header, body = rows(results, compact)
    table = [header, *body]
    gap = " " if compact else "  "
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    if compact:
        # The reasons wrap inside what is left of the width, under their heading.
        before = sum(widths[:-1]) + len(gap) * (len(widths) - 1)
        widths[-1] = max(len(header[-1]), min(widths[-1], width - before))
    # Names and reasons read left-aligned, scores right-aligned.
    def lines(row: list[str]) -> list[str]:
        cells = [cell.ljust(w) if c == 0 else cell.rjust(w)
                 for c, (cell, w) in enumerate(zip(row[:-1], widths))]
        first = gap.join(cells)
        reasons = _wrap(row[-1], widths[-1]) if compact else [row[-1]]
        out = [(first + gap + reasons[0]).rstrip()]
        out += [(" " * (len(first) + len(gap)) + more).rstrip() for more in reasons[1:]]
        return out
    rule = gap.join("-" * w for w in widths)
    return "\n".join([*lines(header), rule, *(line for row in body for line in lines(row))])


def _wrap(text: str, width: int) -> list[str]:
    import textwrap
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


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


def _natural_width(table: Table) -> int:
    """How wide TABLE is when nothing squeezes it (rich's own measure stops at the console)."""
    import io
    buffer = io.StringIO()
    scratch = Console(file=buffer, width=10_000, color_system=None)
    scratch.print(table)
    return max(map(len, buffer.getvalue().splitlines()), default=0)


def notes(results: Sequence[SubmissionResult]) -> list[str]:
    """One line per file graded under another name or found instead of a missing one."""
    return [f"{r.student} · {ex.exercise}: {note}"
            for r in results for ex in r.exercises for note in result_notes(ex)]


def print_summary(results: Sequence[SubmissionResult], console: Console | None = None,
                  stream: TextIO | None = None) -> None:
    console = console or Console(file=stream)
    if console.is_terminal:
        wide = rich_table(results)
        if _natural_width(wide) <= console.width:
            console.print(wide)
        else:  # short column names and a legend, rather than a table cut into pieces
            console.print(plain(results, width=console.width), markup=False, highlight=False)
    else:
        print(plain(results), file=console.file)
    said = notes(results)
    if said:
        print("\nNotes (* set by the instructor):", file=console.file)
        for line in said:
            print(f"  {line}", file=console.file)
