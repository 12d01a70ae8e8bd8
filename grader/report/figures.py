"""The figures a test measured, named and formatted for people: the one place that does it.

Tests and the timing rule (grader/timing/) record figures as numbers under stable keys
(`{"speedup_median": 1.83, "workers": 2, "budget_s": 8.0}`); the gradebook, bench/ and
the class page read those numbers. What a figure is called, its unit, and which two keys
make one range ("0.95-1.20") are declared here, once, for the HTML page, the plain text
of results.json and the terminal alike (as pyperf's _formatter.py does for its figures).

A key not declared here (a hidden test's own figure, such as readers_writers'
"writers that went in before reader (max)") is shown under its own name with its value
formatted by `number`. Results stored by an older grader hold the same figures as
display strings under display names ("in-kernel concurrency (range)": "0.95-1.20"):
they are shown as they were stored; the few old names whose values were numbers are
read as their stable key (`LEGACY`), so old measurements still count on the class page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeGuard



def number(value: float) -> str:
    """Points and figures without noise: 5 not 5.0, 2.5 stays 2.5, 1.234567 -> 1.23.

    Thousands are grouped from five digits on (80,000 increments), not in 1234.
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:{',' if abs(value) >= 10_000 else ''}.2f}".rstrip("0").rstrip(".")


def _ratio(value: float) -> str:
    return f"{value:.2f}"


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _times(value: float) -> str:
    return f"{number(value)}x"


def _seconds(value: float) -> str:
    return f"{number(value)} s"


def _plain(value: float) -> str:
    return number(value)


def _share(value: float) -> str:
    return f"{value:.0%} of the work"


@dataclass(frozen=True)
class Figure:
    label: str  # what the report calls it; "{kernel}" is the instrumented function's name
    show: Callable[[float], str] = _plain


# In the order reports show them. Keys of grader/timing/rule.py's figures and speedup, and
# of the timing exercises' own figures (parallel_histogram, gil_choice).
FIGURES: dict[str, Figure] = {
    "workers": Figure("workers asked for"),
    "usable_cores": Figure("usable cores"),
    "rounds": Figure("rounds"),
    "concurrency_median": Figure("in-kernel concurrency (median)", _ratio),
    "concurrency_needed": Figure("concurrency needed", _ratio),
    "reference_concurrency_median": Figure("reference in-kernel concurrency (median)", _ratio),
    "concurrency_vs_reference_median": Figure("concurrency vs reference (median)", _times),
    "processes_active": Figure("processes that did work"),
    "worker_processes_median": Figure("worker processes started (median)"),
    "duty_median": Figure("share of working time inside {kernel} (median)", _percent),
    "cpu_overhead_median": Figure("CPU time / serial CPU time (median)", _times),
    "cpu_overhead_limit": Figure("CPU limit", _times),
    "serial_cpu_s": Figure("serial CPU time", _seconds),
    "probe_share_min": Figure("free-core probe (lowest share of a core)", _ratio),
    "pilot_share": Figure("decided on one pilot round with", _share),
    "budget_s": Figure("rounds stopped at the budget of", _seconds),
    "stopped_after_rounds": Figure("rounds done within the budget"),
    "events": Figure("events"),
    "fits": Figure("fits"),
    "timed_runs": Figure("timed runs"),
    "timed_runs_right": Figure("timed runs with the serial loop's results"),
    "fetches": Figure("fetches"),
    "waiting_s": Figure("waiting in all", _seconds),
    "wall_s": Figure("wall time", _seconds),
    "in_flight_mean": Figure("fetches in flight (mean)", _ratio),
    "in_flight_max": Figure("fetches in flight (most)"),
    "over_workers_share": Figure("share of the time over workers", _percent),
    "processes": Figure("processes"),
    "speedup_median": Figure("speedup (median)", _times),
    "reference_speedup_median": Figure("reference speedup (median)", _times),
}
# Two keys shown as one "low-high" row, in the place of the first.
RANGES: dict[str, tuple[str, str]] = {
    "concurrency_min": ("concurrency_max", "in-kernel concurrency (range)"),
    "speedup_min": ("speedup_max", "speedup (range)"),
    "reference_speedup_min": ("reference_speedup_max", "reference speedup (range)"),
}
RANGE_ENDS = {high for high, _ in RANGES.values()}
# Words, not quantities: shown as words.
WORDS: dict[str, tuple[str, dict[str, str]]] = {
    "machine": ("machine", {"quiet": "quiet", "busy": "busy", "not_probed": "not probed"}),
}
# The order of the rows: every declared key, a range where its median is.
ORDER: tuple[str, ...] = (
    "workers", "usable_cores", "rounds", "concurrency_median", "concurrency_min",
    "concurrency_needed", "reference_concurrency_median", "concurrency_vs_reference_median",
    "processes_active", "worker_processes_median", "duty_median", "cpu_overhead_median",
    "cpu_overhead_limit", "serial_cpu_s", "machine", "probe_share_min", "pilot_share",
    "budget_s", "stopped_after_rounds", "events", "fits", "timed_runs", "timed_runs_right",
    "fetches", "waiting_s", "wall_s", "in_flight_mean", "in_flight_max",
    "over_workers_share", "processes", "speedup_median", "speedup_min",
    "reference_speedup_median", "reference_speedup_min",
)
# Names, used inside other figures' labels, not shown as rows.
NAMES = frozenset({"kernel"})
# An older grader's display names whose values were numbers: read as the stable key.
LEGACY: dict[str, str] = {
    "speedup (median)": "speedup_median",
    "reference speedup (median)": "reference_speedup_median",
    "in-kernel concurrency (median)": "concurrency_median",
    "CPU time / serial CPU time (median)": "cpu_overhead_median",
    "worker processes started (median)": "worker_processes_median",
}


def number_of(value: Any, key: str) -> float | None:
    """The number stored under KEY (or under its old display name), None if there is none."""
    if not isinstance(value, dict):
        return None
    found = value.get(key)
    if found is None:
        found = next((v for old, new in LEGACY.items() if new == key for v in [value.get(old)]
                      if v is not None), None)
    return float(found) if is_number(found) else None


def process_label(process: dict[str, Any], n: int) -> str:
    """How a lane of the busy-intervals chart is named: the calling process or worker N,
    with its pid (grader/timing/figures.py's busy_chart); a stored label as it was."""
    if isinstance(process.get("label"), str):
        return process["label"]
    pid = f" (pid {process['pid']})" if is_number(process.get("pid")) else ""
    worker = process.get("worker")
    if not is_number(worker):
        return f"process {n}{pid}"
    return f"calling process{pid}" if worker == 0 else f"worker {worker}{pid}"


def rows(value: Any, show_other: Callable[[Any, str], str]) -> dict[str, str]:
    """The flat figures of a speedup/figures dict as label -> text, in the report's order;
    lists and dicts (a series, a chart) are left to their own renderings. SHOW_OTHER
    formats a value whose key this module does not declare."""
    if not isinstance(value, dict):
        return {"value": show_other(value, "")} if is_number(value) else {}
    kernel = str(value.get("kernel") or "the kernel")
    shown: dict[str, str] = {}
    order = [k for k in ORDER if k in value]
    order += [k for k in value if k not in ORDER]
    for key in order:
        figure = value[key]
        if isinstance(figure, (list, dict)) or figure is None or figure == "":
            continue  # a chart, a figure not measured, a note with nothing to say
        if key in NAMES or key in RANGE_ENDS and is_number(figure):
            continue
        if key in RANGES and is_number(figure) and is_number(value.get(RANGES[key][0])):
            high, label = RANGES[key]
            shown[label] = f"{_ratio(figure)}-{_ratio(value[high])}"
        elif key in FIGURES and is_number(figure):
            spec = FIGURES[key]
            shown[spec.label.format(kernel=kernel)] = spec.show(figure)
        elif key in WORDS and isinstance(figure, str):
            label, words = WORDS[key]
            shown[label] = words.get(figure, figure.replace("_", " "))
        else:  # another test's own figure, or a result stored by an older grader
            shown[str(key)] = show_other(figure, str(key))
    return shown


def is_number(value: Any) -> TypeGuard[int | float]:
    """A number that is a figure: an int or a float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
