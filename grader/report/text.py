"""Test outcomes rendered as plain text: for Gradescope's `output`, the terminal and replay.

The HTML report renders the same `details` keys richly; this is the fallback every other
rendering shares, so a student reading results.json on a learning platform still sees the
interleaving, the deadlock cycle and the replay command, not just the message.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from grader.model import (CYCLE, ENGINE, ENGINE_REASON, FIGURES, REPLAY, SPEEDUP, TRACE, VERDICTS,
                          ExerciseResult, TestOutcome)
from grader.report import figures
from grader.report.figures import number  # noqa: F401  (the one number format, used here and by importers)

# Keys the renderers know; anything else is shown as a key/value list.
KNOWN_KEYS = (TRACE, CYCLE, REPLAY, SPEEDUP, FIGURES)
# Which engine of grader/concurrency judged a thread test (details["engine"]), and why
# the fallback was taken: shown as one "Judged by" line here.
ENGINES_KEYS = (ENGINE, ENGINE_REASON)
ENGINES = {"controlled": "the controlled scheduler (schedules chosen and replayable)",
           "stress": "real threads under forced preemption (the stress engine)"}


def short_names(ids: Sequence[str]) -> dict[str, str]:
    """Exercise id -> a short column name: its initials (race_counter -> RC), lengthened
    with letters of its last word where two would be the same (DPh, DPo)."""
    words = {i: [w for w in i.replace("-", "_").split("_") if w] or [i] for i in ids}
    short = {i: "".join(w[0] for w in ws).upper() for i, ws in words.items()}
    extra = 1
    while len(set(short.values())) < len(short) and extra < 12:
        taken = [v for v in short.values()]
        for i, ws in words.items():
            if taken.count(short[i]) > 1:
                short[i] = "".join(w[0] for w in ws).upper() + ws[-1][1:1 + extra]
        extra += 1
    return short


def verdict_words(verdict: str) -> str:
    return VERDICTS.get(verdict, verdict.replace("_", " "))


def file_notes(result: ExerciseResult) -> list[str]:
    """What the grader did about file names: a file graded under another name, or what
    was found where a file not submitted was expected."""
    notes = [f"graded {found} as {expected}" for expected, found in result.renamed.items()]
    if result.status == "not_submitted" and result.found_instead:
        notes.append(f"{', '.join(n for n in result.found_instead)} found instead of "
                     f"the expected file, which is not submitted")
    return notes


def override_text(result: ExerciseResult) -> str:
    """'set to 8 by the instructor (computed: 6): reason', or '' when not overridden."""
    if result.computed_points is None:
        return ""
    return (f"set to {number(result.points)} by the instructor (computed: "
            f"{number(result.computed_points)}): {result.override_why}")


def late_text(result: ExerciseResult) -> str:
    """'submitted 2 days late: 1.6 points taken (of 8)', or why it could not be said."""
    if result.late_days:
        # What the tests earned: before the penalty, and before any override of the total.
        after = result.computed_points if result.computed_points is not None else result.points
        before = after + result.late_penalty
        return (f"submitted {result.late_days} day{'s' if result.late_days != 1 else ''} late: "
                f"{number(result.late_penalty)} points taken (of {number(before)} earned)")
    return f"late policy not applied: {result.late_unknown}" if result.late_unknown else ""


def result_notes(result: ExerciseResult) -> list[str]:
    """Everything said about an exercise's result besides its tests: file names, lateness,
    an override."""
    said = [late_text(result), override_text(result)]
    return [*file_notes(result), *(s for s in said if s)]


def trace_steps(trace: Any) -> list[dict[str, Any]] | None:
    """The steps of an interleaving, or None when the trace is a preformatted string."""
    if isinstance(trace, list) and all(isinstance(s, dict) for s in trace):
        return trace
    return None


def speedup_series(value: Any) -> list[dict[str, float]] | None:
    """A list of {workers, speedup} points, wherever it sits in a speedup/figures value."""
    def is_series(v: Any) -> bool:
        return (isinstance(v, list) and len(v) > 0 and all(
            isinstance(p, dict) and _is_num(p.get("workers")) and _is_num(p.get("speedup"))
            for p in v))

    if is_series(value):
        return sorted(value, key=lambda p: p["workers"])
    if isinstance(value, dict):
        for v in value.values():
            if is_series(v):
                return sorted(v, key=lambda p: p["workers"])
    return None


def busy_timeline(value: Any) -> dict[str, Any] | None:
    """A chart of when each process was busy ({span, unit, processes: [{label, intervals}]}),
    wherever it sits in a figures value."""
    def is_timeline(v: Any) -> bool:
        return (isinstance(v, dict) and _is_num(v.get("span")) and isinstance(v.get("processes"), list)
                and all(isinstance(p, dict) and isinstance(p.get("intervals"), list)
                        for p in v["processes"]))

    if is_timeline(value):
        return value
    if isinstance(value, dict):
        return next((v for v in value.values() if is_timeline(v)), None)
    return None


def figure_rows(value: Any) -> dict[str, str]:
    """A speedup/figures value's flat figures as label -> text (grader/report/figures.py
    names and formats them; series and charts are rendered apart)."""
    return figures.rows(value, show_value)


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def show_value(value: Any, key: str = "") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if _is_num(value):
        # A seed is an identifier to type back in, not a quantity: never grouped.
        return str(value) if "seed" in key else number(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def trace_text(trace: Any) -> str:
    steps = trace_steps(trace)
    if steps is None:
        return str(trace).rstrip()
    rows = [("step", "thread", "where", "code")]
    for i, step in enumerate(steps, 1):
        file, line = step.get("file") or "", step.get("line") or ""
        where = f"{file}:{line}" if file and line else file
        code = str(step.get("source", "")).strip()
        if not file:  # a scheduler event, not a line of code
            code = f"({code})"
        continues = step.get("continues")
        if continues:  # the rest of a line a switch interrupted
            code += f"    (the rest of step {continues})" if not isinstance(continues, bool) \
                else "    (the rest of a line interrupted by a switch)"
        if step.get("note"):
            code += f"    # {step['note']}"
        rows.append((str(i), str(step.get("thread", "?")), where, code))
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows).rstrip()


def cycle_text(cycle: Any) -> str:
    if not isinstance(cycle, list):
        return str(cycle)
    lines = [f"{i}. {link}" for i, link in enumerate(cycle, 1)]
    if len(cycle) > 1:
        lines.append("   ... and back to 1: nobody can go on.")
    return "\n".join(lines)


def figures_text(value: Any) -> str:
    lines = [f"{label}: {text}" for label, text in figure_rows(value).items()]
    series = speedup_series(value)
    if series:
        lines.append("workers  speedup")
        lines += [f"{number(p['workers']):>7}  {number(p['speedup'])}x" for p in series]
    timeline = busy_timeline(value)
    if timeline:
        unit = timeline.get("unit", "")
        for n, proc in enumerate(timeline["processes"], 1):
            busy = sum(b - a for a, b in proc["intervals"] if _is_num(a) and _is_num(b))
            lines.append(f"{figures.process_label(proc, n)}: busy {number(busy)} of "
                         f"{number(timeline['span'])} {unit}")
    if not lines:
        return show_value(value)
    return "\n".join(lines)


def details_text(details: dict[str, Any]) -> str:
    """Every detail of a test as readable text, known keys first."""
    parts: list[str] = []
    if CYCLE in details:
        parts.append("Deadlock cycle:\n" + _indent(cycle_text(details[CYCLE])))
    if TRACE in details:
        parts.append("Interleaving:\n" + _indent(trace_text(details[TRACE])))
    for key in (SPEEDUP, FIGURES):
        if key in details:
            parts.append(f"{key.capitalize()}:\n" + _indent(figures_text(details[key])))
    if ENGINE in details:
        judged = f"Judged by: {ENGINES.get(str(details[ENGINE]), details[ENGINE])}"
        if details.get(ENGINE_REASON):
            judged += f"\n  why: {details[ENGINE_REASON]}"
        parts.append(judged)
    others = {k: v for k, v in details.items() if k not in KNOWN_KEYS and k not in ENGINES_KEYS}
    if others:
        parts.append("\n".join(f"{k}: {show_value(v, k)}" for k, v in others.items()))
    if REPLAY in details:
        parts.append("Replay this schedule (with the hidden tests, so on the grader's side):\n"
                     + _indent(str(details[REPLAY])))
    return "\n\n".join(parts)


def outcome_text(outcome: TestOutcome) -> str:
    """One test's message and details: what a student reads when it failed."""
    if outcome.passed:
        # A pass may carry what was measured (a timing test's figures, or why it was not
        # judged): the student sees that too.
        head = f"passed: {outcome.message}" if outcome.message else "passed"
        extra = details_text(outcome.details)
        return f"{head}\n\n{extra}" if extra else head
    head = f"{verdict_words(outcome.verdict)}: {outcome.message}" if outcome.message \
        else verdict_words(outcome.verdict)
    extra = details_text(outcome.details)
    return f"{head}\n\n{extra}" if extra else head


def exercise_line(result: ExerciseResult) -> str:
    """'race_counter  6/10  2 of 3 tests passed' for summaries."""
    passed = sum(t.passed for t in result.tests)
    status = result.message if result.status != "graded" and result.message else \
        f"{passed} of {len(result.tests)} tests passed"
    return f"{result.exercise}  {number(result.points)}/{number(result.max_points)}  {status}"


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())
