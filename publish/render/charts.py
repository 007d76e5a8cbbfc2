"""The geometry of the site's small charts: a monthly trend line and grouped bars.

Python works out where every mark goes (plain numbers); `templates/site/_charts.html`
draws them as inline SVG. Inline SVG is fast enough for a chart on each of several
hundred provider pages (matplotlib takes a tenth of a second a chart), needs no file or
request, and is the same bytes for the same figures. Every chart has a text
alternative (the SVG's title and description) and its figures as a table beside it;
a suppressed or missing figure is a gap, never a zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# NHS colours with at least 3:1 contrast on white (WCAG 1.4.11, non-text contrast).
SERIES_COLOURS = ("#005eb8", "#212b32", "#768692")


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the value as published


@dataclass
class LineChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    segments: list[str]  # SVG polyline point lists: a gap where a figure is missing
    points: list[Point]
    y_label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str
    label_x: float


@dataclass
class BarChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    groups: list[tuple[float, str]]  # (y of the group label, label)
    bars: list[Bar]
    x_ticks: list[Tick]
    axis_y: float
    legend: list[tuple[float, str, str]] = field(default_factory=list)  # (y, colour, name)
    x_label: str = ""


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and round steps up to at least `top`: 0, 2,000, 4,000, 6,000."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(step, 1.0)  # whole numbers: counts and days
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def svg_number(value: float) -> str:
    """A coordinate as SVG text, to the tenth of a pixel the geometry is rounded to, with
    no ".0" (the site has several thousand marks: a number's bytes add up)."""
    return f"{value:.1f}".removesuffix(".0")


def tick_label(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def trend_chart(
    labels: list[str], values: list[float | None], shown: list[str], y_label: str
) -> LineChart:
    """A line over the months of the year; `shown` is each value as published."""
    width, height = 640, 300
    left, right, top, bottom = 72.0, 624.0, 16.0, 250.0
    ticks = nice_ticks(max((v for v in values if v is not None), default=0))
    scale = (bottom - top) / ticks[-1]
    step = (right - left) / max(len(labels) - 1, 1)
    xs = [left + i * step for i in range(len(labels))]
    points, segments, current = [], [], []
    for x, value, text in zip(xs, values, shown, strict=True):
        if value is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        y = bottom - value * scale
        points.append(Point(round(x, 1), round(y, 1), text))
        current.append(f"{svg_number(x)},{svg_number(y)}")
    if current:
        segments.append(" ".join(current))
    return LineChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        x_ticks=[Tick(round(x, 1), label) for x, label in zip(xs, labels, strict=True)],
        y_ticks=[Tick(round(bottom - t * scale, 1), tick_label(t)) for t in ticks],
        segments=[s for s in segments if " " in s],  # a lone point is drawn as a point
        points=points,
        y_label=y_label,
    )


def grouped_bar_chart(
    groups: list[str],
    series: list[str],
    values: list[list[float | None]],
    shown: list[list[str]],
    x_label: str,
) -> BarChart:
    """Horizontal bars: for each group (a modality), one bar per series (an area)."""
    bar_height, gap, label_width = 16.0, 14.0, 236.0
    left, right = label_width, 600.0
    top = 12.0 + 20.0 * len(series) + 8.0  # below the legend, one line per series
    known = [v for row in values for v in row if v is not None]
    ticks = nice_ticks(max(known, default=0))
    scale = (right - left) / ticks[-1]
    bars, group_labels = [], []
    y = top
    for name, row, texts in zip(groups, values, shown, strict=True):
        group_labels.append((round(y + bar_height * len(series) / 2 + 4, 1), name))
        for index, (value, text) in enumerate(zip(row, texts, strict=True)):
            length = (value or 0) * scale
            bars.append(
                Bar(
                    x=left,
                    y=round(y, 1),
                    width=round(length, 1),
                    height=bar_height - 2,
                    colour=SERIES_COLOURS[index % len(SERIES_COLOURS)],
                    label=text,
                    label_x=round(left + length + 4, 1),
                )
            )
            y += bar_height
        y += gap
    return BarChart(
        width=660,
        height=int(y + 40),
        plot_left=left,
        plot_right=right,
        groups=group_labels,
        bars=bars,
        x_ticks=[Tick(round(left + t * scale, 1), tick_label(t)) for t in ticks],
        axis_y=round(y, 1),
        legend=[
            (12.0 + 20.0 * i, SERIES_COLOURS[i % len(SERIES_COLOURS)], name)
            for i, name in enumerate(series)
        ],
        x_label=x_label,
    )
