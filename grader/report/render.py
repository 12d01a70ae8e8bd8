"""HTML reports: one page per student and one for the class, from SubmissionResults alone.

The pages are single self-contained files (inline CSS and SVG, no CDN, no JavaScript
needed to read them) so they can be mailed, archived or opened from a zip years later.
Everything a template shows is prepared here as plain values; templates only lay it out.
"""
from __future__ import annotations

import os
import platform
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

import grader
from grader.exports import exercise_ids, failure_words, student_dir
from grader.model import ExerciseResult, SubmissionResult, TestOutcome
from grader.report import svg
from grader.report.text import (KNOWN_KEYS, busy_timeline, number, scalar_figures,
                                show_value, speedup_series, trace_steps, verdict_words)

HERE = Path(__file__).parent

# How a verdict looks: the report groups failures by kind, not by test.
TONES = {
    "passed": "ok", "wrong": "bad", "race": "bad", "deadlock": "bad", "starvation": "bad",
    "busy_wait": "warn", "serial": "warn", "too_slow": "warn", "timeout": "broken",
    "crash": "broken", "error": "broken", "import_error": "broken", "tampered": "broken",
    "not_submitted": "muted", "not_judged": "muted",
}


def machine() -> dict[str, str]:
    """Where the grades were computed: timing verdicts depend on it."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux: the count of the machine, not of this process
        cores = os.cpu_count() or 1
    return {"python": platform.python_version(), "cores": str(cores),
            "system": f"{platform.system()} {platform.machine()}"}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = number
    env.filters["verdict"] = verdict_words
    env.filters["tone"] = lambda verdict: TONES.get(verdict, "bad")
    env.filters["meter"] = lambda frac: svg.meter(frac)
    env.globals["css"] = Markup((HERE / "style.css").read_text(encoding="utf-8"))
    return env


def _page_context(generated: datetime | None) -> dict[str, Any]:
    when = generated or datetime.now().astimezone()
    return {"generated": when.strftime("%Y-%m-%d %H:%M"), "version": grader.__version__,
            "machine": machine()}


# ---------------------------------------------------------------- the student's page

@dataclass
class Block:
    """One rendered piece of a failed test's details."""

    kind: str  # trace_table | pre | cycle | replay | figures | pairs
    title: str
    data: Any = None
    chart: Markup | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def detail_blocks(details: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    # A deadlock's cycle says at a glance what the interleaving shows step by step.
    if "cycle" in details:
        cycle = details["cycle"]
        if isinstance(cycle, list):
            blocks.append(Block("cycle", "Deadlock: who waits for whom", [str(c) for c in cycle]))
        else:
            blocks.append(Block("pre", "Deadlock: who waits for whom", str(cycle)))
    if "trace" in details:
        steps = trace_steps(details["trace"])
        if steps is None:
            blocks.append(Block("pre", "Interleaving", str(details["trace"]).rstrip()))
        else:
            threads = list(dict.fromkeys(str(s.get("thread", "?")) for s in steps))
            rows = [{"n": i, "column": threads.index(str(s.get("thread", "?"))),
                     "step": _step(s)} for i, s in enumerate(steps, 1)]
            blocks.append(Block("trace_table", "Interleaving", rows, extra={"threads": threads}))
    for key in ("speedup", "figures"):
        if key in details:
            value = details[key]
            series = speedup_series(value)
            table = {k: show_value(v, k) for k, v in scalar_figures(value).items()}
            if not table and not series:
                table = {key: show_value(value)}
            busy = busy_timeline(value)
            blocks.append(Block("figures", "Speedup" if key == "speedup" else "Figures", table,
                                chart=svg.speedup_chart(series) if series else None,
                                extra={"timeline": svg.timeline(busy) if busy else None}))
    others = {k: show_value(v, k) for k, v in details.items() if k not in KNOWN_KEYS}
    if others:
        blocks.append(Block("pairs", "Details", others))
    if "replay" in details:
        blocks.append(Block("replay", "Replay this exact schedule", str(details["replay"])))
    return blocks


def _step(step: dict[str, Any]) -> dict[str, str]:
    """A trace step with every field present: engines may leave out a note or a line."""
    # A step with no file is a scheduler event (a thread starts, joins, blocks on a lock):
    # shown as an event, not as a line of code.
    file, line = str(step.get("file") or ""), step.get("line") or ""
    return {"thread": str(step.get("thread", "?")), "source": str(step.get("source") or "").strip(),
            "where": f"{file}:{line}" if file and line else file,
            "note": str(step.get("note") or "")}


def _test_view(t: TestOutcome) -> dict[str, Any]:
    return {"t": t, "blocks": [] if t.passed else detail_blocks(t.details)}


def _exercise_view(ex: ExerciseResult) -> dict[str, Any]:
    return {
        "ex": ex,
        "fraction": ex.points / ex.max_points if ex.max_points else 0.0,
        "passed": sum(t.passed for t in ex.tests),
        "tests": [_test_view(t) for t in ex.tests],
        "failures": failure_words(ex),
    }


def render_student(result: SubmissionResult, *, generated: datetime | None = None) -> str:
    return environment().get_template("student.html").render(
        r=result,
        fraction=result.points / result.max_points if result.max_points else 0.0,
        exercises=[_exercise_view(ex) for ex in result.exercises],
        **_page_context(generated))


# ---------------------------------------------------------------- the class page

def _stats(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0}
    return {"mean": statistics.fmean(values), "median": statistics.median(values)}


def class_view(results: Sequence[SubmissionResult]) -> dict[str, Any]:
    ids = exercise_ids(results)
    exercises, tests, kinds = [], [], Counter()
    for ex_id in ids:
        graded = [r.exercise(ex_id) for r in results if r.exercise(ex_id)]
        scores = [ex.points for ex in graded]
        top = graded[0].max_points
        submitted = [ex for ex in graded if ex.status != "not_submitted"]
        exercises.append({
            "id": ex_id, "title": graded[0].title, "max": top, "submitted": len(submitted),
            "count": len(graded), **_stats(scores),
            "full": sum(ex.points >= top for ex in graded),
            "spark": svg.histogram(scores, top, bins=5, width=120, height=28, axis=False,
                                   label=f"scores on {ex_id}"),
        })
        # Pass rates only over submitted work: a missing file says nothing about a test.
        for name, title in dict.fromkeys((t.name, t.title) for ex in graded for t in ex.tests):
            outcomes = [t for ex in submitted for t in ex.tests if t.name == name]
            passed = sum(t.passed for t in outcomes)
            verdicts = Counter(verdict_words(t.verdict) for t in outcomes if not t.passed)
            tests.append({"exercise": ex_id, "name": name, "title": title, "passed": passed,
                          "judged": len(outcomes),
                          "rate": passed / len(outcomes) if outcomes else 0.0,
                          "verdicts": verdicts.most_common()})
        for ex in graded:
            kinds.update(failure_words(ex))
    tests.sort(key=lambda t: (t["rate"], t["exercise"], t["name"]))
    totals = [r.points for r in results]
    top_total = max((r.max_points for r in results), default=0.0)
    students = sorted(results, key=lambda r: r.student.lower())
    return {
        "ids": ids, "exercises": exercises, "tests": tests,
        "kinds": kinds.most_common(), "kinds_peak": max(kinds.values(), default=1),
        "totals": _stats(totals), "top_total": top_total, "count": len(results),
        "histogram": svg.histogram(totals, top_total, label="distribution of total scores"),
        "students": [{"r": r, "href": f"{student_dir(r.student)}/report.html",
                      "cells": [r.exercise(i) for i in ids]} for r in students],
    }


def render_class(results: Sequence[SubmissionResult], *,
                 generated: datetime | None = None) -> str:
    return environment().get_template("index.html").render(
        **class_view(results), **_page_context(generated))


# ---------------------------------------------------------------- files

def write_student_report(result: SubmissionResult, out: Path) -> Path:
    folder = out / student_dir(result.student)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(render_student(result), encoding="utf-8")
    return path


def write_class_report(results: Sequence[SubmissionResult], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(render_class(results), encoding="utf-8")
    return path
