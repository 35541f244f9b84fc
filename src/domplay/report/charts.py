"""Small inline SVG charts: line charts and (grouped or stacked) bar charts, no dependencies.

Every data point is an SVG element with class `pt` (circles) or `bar` (rects) carrying
`data-series`, `data-x` and `data-value` attributes and a `<title>` tooltip, so the report
can be read by people and checked by tests. Text is escaped: series names come from run data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH_PX = 520
HEIGHT_PX = 250
MARGIN_LEFT_PX = 52
MARGIN_RIGHT_PX = 12
MARGIN_TOP_PX = 12
MARGIN_BOTTOM_PX = 40
"""Room for the x tick labels and the x axis label below the plot."""
POINT_RADIUS_PX = 3.5
Y_TICKS = 4
MAX_X_LABELS = 10
"""More x positions than this get labels on every k-th position only."""
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563", "#65a30d", "#9333ea")

Format = Callable[[float], str]


def percent(v: float) -> str:
    return f"{v:.0%}"


def number(v: float) -> str:
    if v == 0 or abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


MINUTES_FROM_S = 120
"""Durations of at least this many seconds are shown in minutes."""


def seconds(v: float) -> str:
    return f"{v / 60:.1f} min" if v >= MINUTES_FROM_S else f"{v:.0f} s"


def duration_format(longest_s: float) -> Format:
    """One unit for a whole axis: minutes when its longest duration is long, else seconds."""
    if longest_s >= MINUTES_FROM_S:
        return lambda v: f"{v / 60:.3g} min"
    return lambda v: f"{v:.3g} s"


@dataclass(frozen=True)
class Series:
    """One named line (points (x, y)) or one bar series (a value per category, None = missing)."""

    name: str
    points: tuple[tuple[float, float], ...] = ()
    values: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class _Frame:
    """Maps data coordinates to pixels inside the plot area."""

    x_min: float
    x_max: float
    y_max: float

    @property
    def plot_w(self) -> float:
        return WIDTH_PX - MARGIN_LEFT_PX - MARGIN_RIGHT_PX

    @property
    def plot_h(self) -> float:
        return HEIGHT_PX - MARGIN_TOP_PX - MARGIN_BOTTOM_PX

    def x(self, v: float) -> float:
        if self.x_max == self.x_min:
            return MARGIN_LEFT_PX + self.plot_w / 2
        return MARGIN_LEFT_PX + (v - self.x_min) / (self.x_max - self.x_min) * self.plot_w

    def y(self, v: float) -> float:
        return MARGIN_TOP_PX + self.plot_h - (v / self.y_max if self.y_max else 0.0) * self.plot_h


def nice_max(v: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= v (a round axis end)."""
    if v <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * base >= v * (1 - 1e-9):
            return m * base
    return 10 * base


def nice_max_seconds(v: float) -> float:
    """A round axis end for durations: whole minutes once the axis would show minutes."""
    return nice_max(v / 60) * 60 if v >= MINUTES_FROM_S else nice_max(v)


def empty(title: str, message: str) -> str:
    return (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption><p class="empty">{escape(message)}</p></figure>'
    )


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_format: Format = number,
    y_max: float | None = None,
    x_format: Format = number,
    empty_message: str = "no data yet",
) -> str:
    """Lines over numeric x; `y_max` fixes the axis end (e.g. 1.0 for rates)."""
    series = [s for s in series if s.points]
    if not series:
        return empty(title, empty_message)
    xs = sorted({x for s in series for x, _ in s.points})
    top = y_max if y_max is not None else nice_max(max(y for s in series for _, y in s.points))
    frame = _Frame(xs[0], xs[-1], top)
    parts = [_y_axis(frame, y_format), _x_ticks([(frame.x(x), x_format(x)) for x in xs], x_label)]
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        coords = [(frame.x(x), frame.y(y)) for x, y in sorted(s.points)]
        if len(coords) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        dense = len(coords) > WIDTH_PX / (4 * POINT_RADIUS_PX)
        for (x, y), (px, py) in zip(sorted(s.points), coords, strict=True):
            radius = POINT_RADIUS_PX / 2 if dense else POINT_RADIUS_PX
            parts.append(
                f'<circle class="pt" cx="{px:.1f}" cy="{py:.1f}" r="{radius}" fill="{color}" '
                f'data-series="{escape(s.name)}" data-x="{x:g}" data-value="{y:g}">'
                f"<title>{escape(s.name)} @ {escape(x_format(x))}: {escape(y_format(y))}</title></circle>"
            )
    return _figure(title, parts, [s.name for s in series])


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    y_format: Format = number,
    y_max: float | None = None,
    y_nice: Callable[[float], float] = nice_max,
    empty_message: str = "no data yet",
) -> str:
    """Bars per category: side by side (grouped) or on top of each other (stacked); `y_nice` rounds the axis end."""
    series = [s for s in series if any(v is not None for v in s.values)]
    if not categories or not series:
        return empty(title, empty_message)
    if stacked:
        totals = [sum(s.values[i] or 0.0 for s in series) for i in range(len(categories))]
    else:
        totals = [max((s.values[i] or 0.0) for s in series) for i in range(len(categories))]
    frame = _Frame(0, len(categories), y_max if y_max is not None else y_nice(max(totals)))
    slot = frame.plot_w / len(categories)
    width = slot * 0.8 / (1 if stacked else len(series))
    parts = [_y_axis(frame, y_format), _x_ticks([(frame.x(i + 0.5), c) for i, c in enumerate(categories)], "")]
    for i, category in enumerate(categories):
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            left = frame.x(i) + slot * 0.1 + (0 if stacked else j * width)
            top, bottom = frame.y(base + value), frame.y(base)
            parts.append(
                f'<rect class="bar" x="{left:.1f}" y="{top:.1f}" width="{max(width - 1, 1):.1f}" '
                f'height="{max(bottom - top, 0):.1f}" fill="{PALETTE[j % len(PALETTE)]}" '
                f'data-series="{escape(s.name)}" data-x="{escape(category)}" data-value="{value:g}">'
                f"<title>{escape(category)} · {escape(s.name)}: {escape(y_format(value))}</title></rect>"
            )
            if stacked:
                base += value
    return _figure(title, parts, [s.name for s in series])


def _figure(title: str, parts: list[str], legend: list[str]) -> str:
    body = "\n".join(parts)
    keys = "".join(
        f'<span><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{escape(name)}</span>'
        for i, name in enumerate(legend)
    )
    return (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" '
        f'width="{WIDTH_PX}" height="{HEIGHT_PX}" role="img" aria-label="{escape(title)}">{body}</svg>'
        f'<div class="legend">{keys}</div></figure>'
    )


def _y_axis(frame: _Frame, fmt: Format) -> str:
    out = []
    for k in range(Y_TICKS + 1):
        v = frame.y_max * k / Y_TICKS
        y = frame.y(v)
        out.append(
            f'<line class="grid" x1="{MARGIN_LEFT_PX}" x2="{WIDTH_PX - MARGIN_RIGHT_PX}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{MARGIN_LEFT_PX - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(v))}</text>'
        )
    return "".join(out)


def _x_ticks(ticks: list[tuple[float, str]], label: str) -> str:
    every = max(1, math.ceil(len(ticks) / MAX_X_LABELS))
    base_y = HEIGHT_PX - MARGIN_BOTTOM_PX
    out = [
        (f'<line class="axis" x1="{MARGIN_LEFT_PX}" x2="{WIDTH_PX - MARGIN_RIGHT_PX}" y1="{base_y}" y2="{base_y}"/>')
    ]
    for i, (x, text) in enumerate(ticks):
        if i % every == 0 or i == len(ticks) - 1:
            out.append(f'<text class="tick" x="{x:.1f}" y="{base_y + 15}" text-anchor="middle">{escape(text)}</text>')
    if label:
        out.append(
            f'<text class="label" x="{WIDTH_PX - MARGIN_RIGHT_PX}" y="{base_y + 30}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    return "".join(out)
