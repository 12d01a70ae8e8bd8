"""HTML reports: one page per student and one for the class, from SubmissionResults alone.

The pages are single self-contained files (inline CSS and SVG, no CDN, no JavaScript
needed to read them) so they can be mailed, archived or opened from a zip years later.
Everything a template shows is prepared here as plain values; templates only lay it out.
"""
from __future__ import annotations

import json
import math
import multiprocessing
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
from grader.report.exports import exercise_ids, failure_words, student_dir
from grader.model import (CYCLE, FIGURES, REPLAY, SPEEDUP, SPEEDUP_VERDICT, TRACE, ExerciseResult, SubmissionResult,
                          TestOutcome)
from grader.pythons import gil_enabled
from grader.report import svg
from grader.report import figures
from grader.report.text import (KNOWN_KEYS, busy_timeline, figure_rows, number, result_notes,
                                short_names, show_value, speedup_series, trace_steps,
                                verdict_words)

HERE = Path(__file__).parent

# How a verdict looks: the report groups failures by kind, not by test.
TONES = {
    "passed": "ok", "wrong": "bad", "race": "bad", "deadlock": "bad", "starvation": "bad",
    "busy_wait": "warn", "serial": "warn", "too_slow": "warn", "timeout": "broken",
    "crash": "broken", "error": "broken", "import_error": "broken", "tampered": "broken",
    "not_submitted": "muted", "not_judged": "muted", "refused": "broken",
}


def machine() -> dict[str, str]:
    """Where the grades are computed: timing verdicts depend on it. Recorded by the grader
    at the start and end of a run (in the gradebook) and shown as it was then."""
    from grader.cores import usable_cores
    found = usable_cores()
    cores, cores_detail = str(found.usable), found.describe()
    try:
        load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # no load average on this system
        load = "unknown"
    return {"python": platform.python_version(),
            "build": f"{platform.python_implementation()} {' '.join(platform.python_build())}, "
                     f"{platform.python_compiler()}",
            "cores": cores, "cores_detail": cores_detail,
            # Asking get_start_method() would fix the default for this process: read the list.
            "start_method": multiprocessing.get_start_method(allow_none=True)
                            or multiprocessing.get_all_start_methods()[0],
            "load": load, "system": f"{platform.system()} {platform.machine()}",
            # A free-threaded build (3.13t, 3.14t) runs threads in parallel: every page says so.
            "gil": "on" if gil_enabled() else "off"}


# A machine recorded by an older grader lacks some fields: pages still render.
_UNKNOWN_MACHINE = {"python": "?", "build": "", "cores": "?", "cores_detail": "",
                    "start_method": "?", "load": "unknown", "system": "?", "gil": "?"}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = number
    env.filters["verdict"] = verdict_words
    env.filters["notes"] = result_notes
    env.filters["tone"] = lambda verdict: TONES.get(verdict, "bad")
    env.filters["meter"] = lambda frac: svg.meter(frac)
    env.globals["css"] = Markup((HERE / "style.css").read_text(encoding="utf-8"))
    return env


def _page_context(generated: datetime | None,
                  where: dict[str, Any] | None = None) -> dict[str, Any]:
    """GENERATED and WHERE: when and on what the grades were computed (from the gradebook
    when reports are rebuilt); by default, now and this machine."""
    when = generated or datetime.now().astimezone()
    return {"generated": when.strftime("%Y-%m-%d %H:%M"), "version": grader.__version__,
            "machine": {**_UNKNOWN_MACHINE, **(where or machine())}}


# ---------------------------------------------------------------- the student's page

@dataclass
class Block:
    """One rendered piece of a test's details."""

    kind: str  # trace_table | pre | cycle | replay | figures | pairs
    title: str
    data: Any = None
    chart: Markup | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def detail_blocks(details: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    # A deadlock's cycle says at a glance what the interleaving shows step by step.
    if CYCLE in details:
        cycle = details[CYCLE]
        if isinstance(cycle, list):
            blocks.append(Block("cycle", "Deadlock: who waits for whom", [str(c) for c in cycle]))
        else:
            blocks.append(Block("pre", "Deadlock: who waits for whom", str(cycle)))
    if TRACE in details:
        steps = trace_steps(details[TRACE])
        if steps is None:
            blocks.append(Block("pre", "Interleaving", str(details[TRACE]).rstrip()))
        else:
            threads = list(dict.fromkeys(str(s.get("thread", "?")) for s in steps))
            rows = [{"n": i, "column": threads.index(str(s.get("thread", "?"))),
                     "step": _step(s)} for i, s in enumerate(steps, 1)]
            blocks.append(Block("trace_table", "Interleaving", rows, extra={"threads": threads}))
    for key in (SPEEDUP, FIGURES):
        if key in details:
            value = details[key]
            series = speedup_series(value)
            table = figure_rows(value)
            if not table and not series:
                table = {key: show_value(value)}
            busy = busy_timeline(value)
            blocks.append(Block("figures", "Speedup" if key == SPEEDUP else "Figures", table,
                                chart=svg.speedup_chart(series) if series else None,
                                extra={"timeline": svg.timeline(busy) if busy else None}))
    others = {k: show_value(v, k) for k, v in details.items() if k not in KNOWN_KEYS}
    if others:
        blocks.append(Block("pairs", "Details", others))
    if REPLAY in details:
        blocks.append(Block("replay", "Replay this exact schedule (it needs the hidden tests: "
                                          "your instructor can run it with you)", str(details[REPLAY])))
    return blocks


def _step(step: dict[str, Any]) -> dict[str, str]:
    """A trace step with every field present: engines may leave out a note or a line."""
    # A step with no file is a scheduler event (a thread starts, joins, blocks on a lock):
    # shown as an event, not as a line of code.
    file, line = str(step.get("file") or ""), step.get("line") or ""
    return {"thread": str(step.get("thread", "?")), "source": str(step.get("source") or "").strip(),
            "where": f"{file}:{line}" if file and line else file,
            "note": str(step.get("note") or "")}


def _test_views(tests: Sequence[TestOutcome]) -> list[dict[str, Any]]:
    """A passing test's details are what it measured (figures, a speedup chart): shown
    folded under the pass, so a student sees the figures that earned the points. Tests
    that judged one shared measurement show it once: under the first of them that failed
    (where the student looks for why), else under the first; the others point to it."""
    def key(t: TestOutcome) -> str | None:
        # The measurement itself, without what one test concluded from it.
        measured = {k: v for k, v in t.details.items() if k != SPEEDUP_VERDICT}
        return json.dumps(measured, sort_keys=True, default=str) if measured else None

    keys = [key(t) for t in tests]
    home: dict[str, int] = {}
    for i, (t, k) in enumerate(zip(tests, keys)):
        if k is not None and (k not in home or (not t.passed and tests[home[k]].passed)):
            home[k] = i
    views: list[dict[str, Any]] = []
    for i, (t, k) in enumerate(zip(tests, keys)):
        if k is not None and home[k] != i:
            views.append({"t": t, "blocks": [], "same_as": tests[home[k]].title})
        else:
            views.append({"t": t, "blocks": detail_blocks(t.details), "same_as": None})
    return views


def _exercise_view(ex: ExerciseResult, withheld: str | None = None) -> dict[str, Any]:
    from grader.feedback import WAITS_FOR
    return {
        # Not released yet (exercise.yaml's feedback): the tests' names and messages wait.
        "withheld": WAITS_FOR.get(withheld or "", None),
        "ex": ex,
        "fraction": ex.points / ex.max_points if ex.max_points else 0.0,
        "passed": sum(t.passed for t in ex.tests),
        "tests": _test_views(ex.tests),
        "failures": failure_words(ex),
        "notes": result_notes(ex),
    }


def render_student(result: SubmissionResult, *, generated: datetime | None = None,
                   where: dict[str, Any] | None = None,
                   withheld: dict[str, str] | None = None) -> str:
    """WITHHELD: exercise id -> its feedback visibility, for exercises whose tests'
    names and messages students may not see yet."""
    withheld = withheld or {}
    return environment().get_template("student.html").render(
        r=result,
        fraction=result.points / result.max_points if result.max_points else 0.0,
        exercises=[_exercise_view(ex, withheld.get(ex.exercise)) for ex in result.exercises],
        **_page_context(generated, where))


# ---------------------------------------------------------------- the class page

def _stats(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0}
    return {"mean": statistics.fmean(values), "median": statistics.median(values)}


def measured_speedup(details: dict[str, Any]) -> float | None:
    """The speedup a timing test measured, from its details: a number, the median under
    its stable key (grader/report/figures.py), or the series' point at the most workers."""
    value = details.get(SPEEDUP)
    if figures.is_number(value):
        return float(value)
    median = figures.number_of(value, "speedup_median")
    if median is not None:
        return median
    series = speedup_series(value)
    return float(series[-1]["speedup"]) if series else None


def speedup_view(results: Sequence[SubmissionResult], ids: Sequence[str]) -> list[dict[str, Any]]:
    """Per exercise with timing tests: every student's measured speedup, as a histogram.
    One figure per student and exercise: its tests share one measurement."""
    views = []
    for ex_id in ids:
        values, counted = [], 0
        for r in results:
            ex = r.exercise(ex_id)
            found = ((measured_speedup(t.details), t.details) for t in ex.tests) if ex else ()
            value, details = next(((v, d) for v, d in found if v is not None), (None, {}))
            if value is not None:
                values.append(value)
                speedup = details.get(SPEEDUP)
                # Counted unless the measurement says the machine was busy.
                counted += not (isinstance(speedup, dict) and speedup.get("counted") is False)
        if not values:
            continue
        # Quarter steps up to a whole number of times at least 2x: 1x (serial) sits on a
        # bin edge, so serial and parallel solutions land in clearly different bars.
        top = max(2, math.ceil(max(values)))
        views.append({"exercise": ex_id, "count": len(values), "counted": counted, **_stats(values),
                      "low": min(values), "high": max(values),
                      "chart": svg.histogram(values, top, bins=min(4 * top, 24),
                                             label=f"measured speedups on {ex_id}")})
    return views


# From this many exercises on, the students table names its columns by initials.
SHORT_COLUMNS_FROM = 4


def class_view(results: Sequence[SubmissionResult]) -> dict[str, Any]:
    ids = exercise_ids(results)
    exercises: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    for ex_id in ids:
        graded = [ex for r in results if (ex := r.exercise(ex_id)) is not None]
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
    # Grouped per exercise (in the catalogue's order), the hardest test first in each.
    order = {ex_id: n for n, ex_id in enumerate(ids)}
    tests.sort(key=lambda t: (order[t["exercise"]], t["rate"], t["name"]))
    titles = {e["id"]: e["title"] for e in exercises}
    groups = [{"id": ex_id, "title": titles[ex_id],
               "tests": [t for t in tests if t["exercise"] == ex_id]} for ex_id in ids]
    totals = [r.points for r in results]
    top_total = max((r.max_points for r in results), default=0.0)
    students = sorted(results, key=lambda r: r.student.lower())
    return {
        "ids": ids, "exercises": exercises, "tests": tests,
        "groups": [g for g in groups if g["tests"]],
        # Many exercises: the students table's columns get short names, with a legend.
        "short": short_names(ids) if len(ids) > SHORT_COLUMNS_FROM else {i: i for i in ids},
        "kinds": kinds.most_common(), "kinds_peak": max(kinds.values(), default=1),
        "totals": _stats(totals), "top_total": top_total, "count": len(results),
        "histogram": svg.histogram(totals, top_total, label="distribution of total scores"),
        "speedups": speedup_view(results, ids),
        "students": [{"r": r, "href": f"{student_dir(r.student)}/report.html",
                      "cells": [r.exercise(i) for i in ids]} for r in students],
        # Results graded with nothing keeping students apart (the field, set by the sandbox).
        "unisolated": sum(1 for r in results for e in r.exercises if e.sandbox == "plain"),
    }


SIMILAR_SHOWN = 25  # pairs per exercise on the class page


def similarity_view(data: dict[str, Any], ids: Sequence[str]) -> dict[str, Any] | None:
    """The similarity report (grader/similarity.py) per exercise, or None when none was made."""
    from grader.similarity import pairs_of
    if not data:
        return None
    pairs = pairs_of(data)
    compared = [i for i in ids if i in data.get("compared", [])]
    return {"threshold": data.get("threshold", 0), "tool": data.get("tool", ""),
            # The most similar first, a page's worth; similarity.json has every pair.
            "groups": [{"id": i, "count": len(found), "pairs": found[:SIMILAR_SHOWN]}
                       for i in compared
                       for found in [[p for p in pairs if p.exercise == i]] if found],
            "unpaired": [i for i in compared if not any(p.exercise == i for p in pairs)]}


def render_class(results: Sequence[SubmissionResult], *, generated: datetime | None = None,
                 where: dict[str, Any] | None = None,
                 similarity: dict[str, Any] | None = None,
                 people: dict[str, Any] | None = None) -> str:
    """PEOPLE: student -> roster.Person, to name the submissions no roster line claims."""
    view = class_view(results)
    graded = {r.student for r in results}
    off_roster = sorted(s for s, p in (people or {}).items()
                        if getattr(p, "on_roster", None) is False and s in graded)
    return environment().get_template("index.html").render(
        **view, similar=similarity_view(similarity or {}, view["ids"]), off_roster=off_roster,
        **_page_context(generated, where))


# ---------------------------------------------------------------- files

def write_student_report(result: SubmissionResult, out: Path, *,
                         generated: datetime | None = None,
                         where: dict[str, Any] | None = None,
                         withheld: dict[str, str] | None = None) -> Path:
    folder = out / student_dir(result.student)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(render_student(result, generated=generated, where=where,
                                   withheld=withheld), encoding="utf-8")
    return path


def write_class_report(results: Sequence[SubmissionResult], out: Path, *,
                       generated: datetime | None = None,
                       where: dict[str, Any] | None = None,
                       people: dict[str, Any] | None = None) -> Path:
    from grader.similarity import read
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(render_class(results, generated=generated, where=where,
                                 similarity=read(out), people=people), encoding="utf-8")
    return path
