"""Small inline SVG charts: reports stay one self-contained file, readable without JS.

Every function returns `Markup`, with all text escaped here, so templates insert charts
as they are. Colours come from CSS classes defined in style.css, so one palette rules.
"""
from __future__ import annotations

import math
from typing import Sequence

from markupsafe import Markup, escape

from grader.report.figures import number, process_label


def _svg(width: int, height: int, body: list[str], label: str, css: str = "chart") -> Markup:
    return Markup(
        f'<svg class="{css}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}">'
        f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def bins_of(values: Sequence[float], top: float, bins: int) -> list[int]:
    """Counts of values in `bins` equal bins over [0, top]; top itself goes in the last."""
    counts = [0] * bins
    if top <= 0:
        counts[-1 if values else 0] = len(values)
        return counts
    for v in values:
        k = min(bins - 1, max(0, int(v / top * bins)))
        counts[k] += 1
    return counts


def histogram(values: Sequence[float], top: float, *, bins: int = 10, width: int = 560,
              height: int = 200, label: str = "histogram", axis: bool = True) -> Markup:
    """Bars of how many values fall in each tenth of [0, top], with counts over the bars."""
    counts = bins_of(values, top, bins)
    peak = max(counts) or 1
    pad_l, pad_r = (8, 8)
    pad_t, pad_b = (18, 24) if axis else (2, 2)
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    bar_w = plot_w / bins
    body: list[str] = []
    for k, count in enumerate(counts):
        x = pad_l + k * bar_w
        h = plot_h * count / peak
        y = pad_t + plot_h - h
        edges = f"{number(top * k / bins)} to {number(top * (k + 1) / bins)}"
        body.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{max(h, 0):.1f}"><title>{escape(edges)}: {count}</title></rect>')
        if axis and count:
            body.append(f'<text class="count" x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" '
                        f'text-anchor="middle">{count}</text>')
    base = pad_t + plot_h
    body.append(f'<line class="axis" x1="{pad_l}" y1="{base}" x2="{width - pad_r}" y2="{base}"/>')
    if axis:
        for k in range(0, bins + 1, 2 if bins > 6 else 1):
            x = pad_l + k * bar_w
            anchor = "start" if k == 0 else "end" if k == bins else "middle"
            body.append(f'<text class="tick" x="{x:.1f}" y="{height - 6}" '
                        f'text-anchor="{anchor}">{escape(number(top * k / bins))}</text>')
    return _svg(width, height, body, label, "chart histogram" if axis else "spark")


def speedup_chart(series: Sequence[dict[str, float]], *, width: int = 320,
                  height: int = 200) -> Markup:
    """Measured speedup against workers, beside the ideal line speedup = workers."""
    pad_l, pad_r, pad_t, pad_b = 34, 12, 12, 30
    top_x = max(max(p["workers"] for p in series), 1)
    top_y = max(max(p["speedup"] for p in series), top_x, 1)
    top_y = math.ceil(top_y)
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b

    def at(workers: float, speedup: float) -> tuple[float, float]:
        return (pad_l + plot_w * workers / top_x, pad_t + plot_h * (1 - speedup / top_y))

    body = [f'<line class="axis" x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - pad_r}" '
            f'y2="{pad_t + plot_h}"/>',
            f'<line class="axis" x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + plot_h}"/>']
    for tick in range(0, top_y + 1, max(1, top_y // 4)):
        _, py = at(0, tick)
        body.append(f'<text class="tick" x="{pad_l - 6}" y="{py + 4:.1f}" '
                    f'text-anchor="end">{tick}x</text>')
    for p in series:
        px, _ = at(p["workers"], 0)
        body.append(f'<text class="tick" x="{px:.1f}" y="{pad_t + plot_h + 16}" '
                    f'text-anchor="middle">{escape(number(p["workers"]))}</text>')
    body.append(f'<text class="tick" x="{pad_l + plot_w / 2:.1f}" y="{height - 2}" '
                f'text-anchor="middle">workers</text>')
    x0, y0 = at(0, 0)
    x1, y1 = at(top_x, top_x)
    body.append(f'<line class="ideal" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}">'
                f'<title>ideal: speedup = workers</title></line>')
    points = [at(p["workers"], p["speedup"]) for p in series]
    body.append('<polyline class="measured" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
    for p, (x, y) in zip(series, points):
        body.append(f'<circle class="measured" cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>'
                    f'{escape(number(p["workers"]))} workers: {escape(number(p["speedup"]))}x'
                    f'</title></circle>')
    return _svg(width, height, body, "speedup against the number of workers")


def meter(fraction: float, *, width: int = 160, height: int = 10) -> Markup:
    """A score bar: how much of the points were earned, coloured by how much."""
    fraction = min(max(fraction, 0.0), 1.0)
    tone = "full" if fraction >= 0.999 else "part" if fraction > 0 else "none"
    return _svg(width, height, [
        f'<rect class="track" x="0" y="0" width="{width}" height="{height}" rx="{height / 2}"/>',
        f'<rect class="fill {tone}" x="0" y="0" width="{width * fraction:.1f}" '
        f'height="{height}" rx="{height / 2}"/>'], f"{fraction:.0%} of the points", "meter")


def timeline(chart: dict, *, width: int = 640) -> Markup:
    """When each process was busy: one lane per process, bars where it worked. Work that
    really runs in parallel shows as bars stacked in the same columns."""
    processes = chart["processes"]
    span = float(chart["span"]) or 1.0
    unit = str(chart.get("unit", ""))
    label_w, lane_h, pad_t, pad_b, pad_r = 190, 20, 6, 26, 10
    plot_w = width - label_w - pad_r
    height = pad_t + lane_h * len(processes) + pad_b
    body: list[str] = []
    for i, proc in enumerate(processes):
        y = pad_t + i * lane_h
        label = process_label(proc, i + 1)
        body.append(f'<text class="tick" x="{label_w - 8}" y="{y + lane_h / 2 + 4:.1f}" '
                    f'text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect class="lane" x="{label_w}" y="{y + 3}" width="{plot_w}" '
                    f'height="{lane_h - 6}"/>')
        for a, b in proc["intervals"]:
            x0 = label_w + plot_w * max(0.0, float(a)) / span
            x1 = label_w + plot_w * min(span, float(b)) / span
            body.append(f'<rect class="busy" x="{x0:.1f}" y="{y + 3}" '
                        f'width="{max(x1 - x0, 0.6):.1f}" height="{lane_h - 6}"/>')
    base = pad_t + lane_h * len(processes)
    body.append(f'<line class="axis" x1="{label_w}" y1="{base}" x2="{width - pad_r}" y2="{base}"/>')
    for k in range(5):
        x = label_w + plot_w * k / 4
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"
        body.append(f'<text class="tick" x="{x:.1f}" y="{base + 16}" text-anchor="{anchor}">'
                    f'{escape(number(span * k / 4))} {escape(unit)}</text>')
    return _svg(width, height, body, "when each process was busy", "chart timeline")
