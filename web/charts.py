"""Charts drawn on the server as SVG: the geometry is computed here, in plain Python, and
web/templates/web/coordinator/reports_chart.html writes it out as markup.

Why not a charting library (pygal, matplotlib): the pages need little (lines, grouped bars,
horizontal bars), every chart must carry its own accessible name and description (role="img",
<title>, <desc>) and no script or inline style (the CSP allows neither); libraries emit their
own markup, scripts and style sheets, which would need working around, and add a dependency.
Here the markup is ours, escaped by the template engine, and costs microseconds.

Every chart has a fixed viewBox and scales to its column's width (width="100%"), so it stays
whole at 320 px; its viewBox is 320 wide, so its text is nearly its own size there (about
12 px) and, in a half column at 1280 px, about 18 px. Series differ by dash and marker as
well as colour, so nothing depends on colour alone, and each chart's table beside it holds
every number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# GOV.UK palette colours with at least 3:1 contrast on white (WCAG 1.4.11).
COLOURS = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#505a5f")
DASHES = ("", "8 4", "3 3", "10 3 3 3", "1 4")
MARKERS = ("circle", "square", "diamond", "triangle", "circle")

WIDTH = 320
FONT = 14
TEXT = "#0b0c0c"
GRID = "#b1b4b6"


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str
    # The grid line's height, for a tick on the value axis (its label sits just below it).
    line: float = 0.0


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    shape: str
    colour: str
    # A diamond or a triangle, as polygon points; a square's corner is (x - 3, y - 3).
    points: str = ""


@dataclass(frozen=True)
class Line:
    points: str
    colour: str
    dash: str
    markers: list[Marker]


@dataclass(frozen=True)
class LegendItem:
    name: str
    colour: str
    dash: str
    shape: str


@dataclass
class Chart:
    """What the template draws: a viewBox, grid lines with their labels, and the data."""

    id: str
    title: str
    description: str
    height: float
    width: float = WIDTH
    font: int = FONT
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    grid_x: tuple[float, float] = (0, 0)
    grid_y: tuple[float, float] = (0, 0)
    lines: list[Line] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)
    labels: list[Tick] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    horizontal: bool = False
    text: str = TEXT
    grid: str = GRID


def nice_ceiling(value: float) -> tuple[float, float]:
    """A round top for an axis at or above `value`, and the step between its 4 or 5 lines."""
    if value <= 0:
        return 4.0, 1.0
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if step < 1 and value >= 1:
        step = 1.0
    return step * math.ceil(value / step), step


def number(value: float) -> str:
    """A number for an axis or a bar's end: whole when it is, else one decimal place."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _marker(shape: str, x: float, y: float, colour: str) -> Marker:
    if shape == "diamond":
        points = f"{x:.1f},{y - 4:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 4:.1f} {x - 4:.1f},{y:.1f}"
        return Marker(x, y, shape, colour, points)
    if shape == "square":
        corners = ((-3, -3), (3, -3), (3, 3), (-3, 3))
        points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
        return Marker(x, y, shape, colour, points)
    if shape == "triangle":
        points = f"{x:.1f},{y - 4:.1f} {x + 4:.1f},{y + 3:.1f} {x - 4:.1f},{y + 3:.1f}"
        return Marker(x, y, shape, colour, points)
    return Marker(x, y, shape, colour)


def _legend(names: Sequence[str]) -> list[LegendItem]:
    return [
        LegendItem(name, COLOURS[i % 5], DASHES[i % 5], MARKERS[i % 5])
        for i, name in enumerate(names)
    ]


def describe(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], unit: str
) -> str:
    """A sentence per series for a screen reader: where it started and ended, and its peak."""
    if not labels:
        return ""
    parts = []
    for name, values in series:
        top = max(range(len(values)), key=lambda i: values[i])
        parts.append(
            f"{name}: {number(values[0])} {unit} in {labels[0]}, {number(values[-1])} in "
            f"{labels[-1]}; highest {number(values[top])} in {labels[top]}."
        )
    return " ".join(parts)


def time_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str,
    bars: bool = False,
    height: float = 240,
) -> Chart:
    """Values over time, left to right: lines (with a marker on each point when there are
    few), or bars grouped by period."""
    left, right, top, bottom = 36.0, 24.0, 10.0, 26.0
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values), default=0)
    ceiling, step = nice_ceiling(peak)
    chart = Chart(
        id=chart_id,
        title=title,
        description=describe(labels, series, unit),
        height=height,
        grid_x=(left, WIDTH - right),
        grid_y=(top, top + plot_h),
        legend=_legend([name for name, _ in series]),
    )

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / ceiling

    lines = round(ceiling / step)
    chart.y_ticks = [
        Tick(left - 6, y_of(i * step) + 4, number(i * step), line=y_of(i * step))
        for i in range(lines + 1)
    ]
    n = len(labels)
    slot = plot_w / max(n, 1)
    # Four labels at most: at 320 px each has about 70 px.
    every = max(1, math.ceil(n / 4))
    chart.x_ticks = [
        Tick(left + slot * (i + 0.5), top + plot_h + FONT + 4, label)
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    if bars:
        group = slot * 0.8
        width = group / max(len(series), 1)
        for s, (name, values) in enumerate(series):
            for i, value in enumerate(values):
                y = y_of(value)
                chart.rects.append(
                    Rect(
                        x=left + slot * i + slot * 0.1 + width * s,
                        y=y,
                        width=max(width - 0.5, 0.5),
                        height=top + plot_h - y,
                        colour=COLOURS[s % 5],
                        title=f"{name}, {labels[i]}: {number(value)}",
                    )
                )
    else:
        for s, (_name, values) in enumerate(series):
            xy = [(left + slot * (i + 0.5), y_of(v)) for i, v in enumerate(values)]
            shape = MARKERS[s % 5]
            chart.lines.append(
                Line(
                    points=" ".join(f"{x:.1f},{y:.1f}" for x, y in xy),
                    colour=COLOURS[s % 5],
                    dash=DASHES[s % 5],
                    markers=[_marker(shape, x, y, COLOURS[s % 5]) for x, y in xy]
                    if n <= 24
                    else [],
                )
            )
    return chart


def category_chart(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str,
) -> Chart:
    """Horizontal bars, one group per category (names on the left, values at the bars' ends),
    so long names stay readable on a narrow screen."""
    left, right, top = 120.0, 42.0, 6.0
    bar = 18.0
    group = bar * len(series) + 10
    height = top + group * max(len(categories), 1) + 4
    plot_w = WIDTH - left - right
    peak = max((v for _, values in series for v in values), default=0)
    ceiling, _step = nice_ceiling(peak)
    chart = Chart(
        id=chart_id,
        title=title,
        description=describe(categories, series, unit),
        height=height,
        grid_x=(left, WIDTH - right),
        grid_y=(top, height - 4),
        legend=_legend([name for name, _ in series]),
        horizontal=True,
        font=15,
    )
    for c, category in enumerate(categories):
        y0 = top + group * c
        chart.labels.append(Tick(left - 6, y0 + (group - 10) / 2 + FONT / 3, category))
        for s, (name, values) in enumerate(series):
            value = values[c]
            width = plot_w * value / ceiling
            y = y0 + bar * s
            chart.rects.append(
                Rect(
                    x=left,
                    y=y,
                    width=width,
                    height=bar - 1,
                    colour=COLOURS[s % 5],
                    title=f"{category}, {name}: {number(value)}",
                )
            )
            chart.y_ticks.append(Tick(left + width + 4, y + bar - 4, number(value)))
    return chart
