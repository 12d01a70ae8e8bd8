"""Figures as numbers: the timing rule stores numbers under stable keys, the report names
and formats them (grader/report/figures.py), and results stored in the old string form
still render and still count."""
from __future__ import annotations

from pathlib import Path

from grader.cores import Cores
from grader.gradebook import Gradebook, Key
from grader.model import ExerciseResult, SubmissionResult
from grader.model import TestOutcome as Outcome
from grader.report import figures
from grader.report.render import measured_speedup, render_student, speedup_view
from grader.report.text import details_text, figure_rows
from grader.timing import Round, Run, Thresholds, Worker, judge
from grader.timing.rounds import over_budget

TWO = Cores(2, 2)


def _worker(pid: int, start: float, seconds: float, main: bool = False) -> Worker:
    return Worker(pid=pid, main=main, calls=int(seconds * 1e5), working=seconds,
                  in_calls=0.85 * seconds, first=start, last=start + seconds, cpu=seconds,
                  threads=1, intervals=((start, start + seconds),))


def _rounds(n: int = 3) -> list[Round]:
    serial = Run("serial", 1.0, 1.0, (_worker(1, 0.0, 1.0, main=True),), 1.0)
    parallel = Run("student", 0.53, 0.02, (_worker(10, 0.0, 0.5), _worker(11, 0.01, 0.5)), 0.51)
    return [Round(serial, parallel, parallel, (0.97, 0.98)) for _ in range(n)]


def _numbers_only(value: object, path: str = "") -> list[str]:
    """Paths of every string value but the few that are words or names by design."""
    words = {"kernel", "machine", "note", "label", "unit"}
    if isinstance(value, dict):
        return [p for k, v in value.items() if k not in words
                for p in _numbers_only(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _numbers_only(v, f"{path}[{i}]")]
    return [path] if isinstance(value, str) else []


def test_the_rule_keeps_its_figures_as_numbers_under_stable_keys() -> None:
    verdict = over_budget(judge(_rounds(), 2, TWO), Thresholds(budget=8.0))
    assert _numbers_only(verdict.details()) == []
    f, s = verdict.figures, verdict.speedup
    assert f["workers"] == 2 and f["rounds"] == 3 and f["machine"] == "quiet"
    assert f["concurrency_min"] <= f["concurrency_median"] <= f["concurrency_max"]
    assert 0 < f["duty_median"] <= 1 and f["cpu_overhead_limit"] == 1.5
    assert f["budget_s"] == 8.0 and f["stopped_after_rounds"] == 3
    assert s["speedup_min"] <= s["speedup_median"] <= s["speedup_max"]
    assert s["speedup_median"] > 1.8 and s["reference_speedup_median"] > 1.8


def test_the_report_names_and_formats_them() -> None:
    verdict = over_budget(judge(_rounds(), 2, TWO), Thresholds(budget=8.0))
    rows = figure_rows(verdict.figures)
    assert rows["workers asked for"] == "2"
    lo, hi = verdict.figures["concurrency_min"], verdict.figures["concurrency_max"]
    assert rows["in-kernel concurrency (range)"] == f"{lo:.2f}-{hi:.2f}"
    assert rows["share of working time inside reconstruct() (median)"] == "85%"
    assert rows["CPU limit"] == "1.5x" and rows["machine"] == "quiet"
    assert rows["rounds stopped at the budget of"] == "8 s"
    # The two ends of a range are one row; names and charts are not rows.
    assert not {"concurrency_min", "concurrency_max", "kernel", "busy_intervals"} & set(rows)
    speed = figure_rows(verdict.speedup)
    assert speed["speedup (median)"].endswith("x") and "-" in speed["speedup (range)"]
    text = details_text(verdict.details())
    assert "in-kernel concurrency (median): " in text and "speedup (range): " in text
    # The chart's lanes are numbers too (worker, pid), named here.
    lanes = verdict.figures["busy_intervals"]["processes"]
    assert [(p["worker"], p["pid"]) for p in lanes] == [(1, 10), (2, 11)]
    assert "worker 1 (pid 10): busy" in text and "worker 2 (pid 11): busy" in text
    assert measured_speedup(verdict.details()) == verdict.speedup["speedup_median"]


def test_a_figure_no_module_declares_is_shown_under_its_own_name() -> None:
    rows = figures.rows({"writers that went in before reader (max)": 1, "events": 12_000},
                        lambda v, k: f"<{v}>")
    assert rows == {"events": "12,000", "writers that went in before reader (max)": "<1>"}


# What an older grader stored: display names, some values already formatted as strings.
OLD_FIGURES = {
    "workers asked for": 2, "usable cores": 2, "rounds": 3,
    "in-kernel concurrency (median)": 1.93, "in-kernel concurrency (range)": "1.90-1.95",
    "share of working time inside reconstruct() (median)": "84%",
    "CPU time / serial CPU time (median)": 1.04, "CPU limit": "1.5x",
    "machine": "busy", "free-core probe (lowest share)": 0.62,
    "stopped": "at the 8 s budget after 5 rounds",
    "timed runs with the serial loop's counts": "5 of 5",
}
OLD_SPEEDUP = {"speedup (median)": 1.41, "speedup (range)": "1.30-1.52", "counted": False,
               "note": "not judged: the machine was busy (another job took part of the cores)",
               "series": [{"workers": 1, "speedup": 1.0}, {"workers": 2, "speedup": 1.41}]}


def _old_result() -> ExerciseResult:
    test = Outcome("test_work_runs_in_parallel", "Several processes at once", 3, 3,
                       "passed", "2 processes computed at the same time",
                       {"figures": OLD_FIGURES, "speedup": OLD_SPEEDUP})
    return ExerciseResult("parallel_histogram", "Parallel histogram", 3, 3, (test,),
                          file_hash="f" * 64)


def test_an_old_gradebook_with_figures_as_strings_still_renders(tmp_path: Path) -> None:
    with Gradebook.open(tmp_path / "old.sqlite") as book:
        book.store(_old_result(), Key("ann", "parallel_histogram", "f" * 64, "e" * 64, "0"))
        (stored,) = book.all_results()
    details = stored.exercises[0].tests[0].details
    assert details["figures"]["in-kernel concurrency (range)"] == "1.90-1.95"  # kept as stored
    page = render_student(stored)
    for shown in ("1.90-1.95", "84%", "at the 8 s budget after 5 rounds", "5 of 5", "1.93"):
        assert shown in page, shown
    text = details_text(details)
    assert "in-kernel concurrency (range): 1.90-1.95" in text
    assert "stopped: at the 8 s budget after 5 rounds" in text
    # The old median still counts on the class page's speedup histogram.
    assert measured_speedup(details) == 1.41
    (view,) = speedup_view([SubmissionResult("ann", stored.exercises)], ["parallel_histogram"])
    assert view["count"] == 1 and view["counted"] == 0 and view["median"] == 1.41


def test_every_declared_figure_has_its_place_in_the_order() -> None:
    declared = set(figures.FIGURES) | set(figures.RANGES) | set(figures.WORDS)
    assert declared == set(figures.ORDER) and len(figures.ORDER) == len(declared)
    rows = list(figure_rows({"speedup_max": 2.0, "note": "", "counted": True,
                             "speedup_min": 1.5, "speedup_median": 1.8}))
    assert rows == ["speedup (median)", "speedup (range)", "counted"]
