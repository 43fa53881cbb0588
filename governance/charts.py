"""Line charts drawn on the server as SVG: no script, nothing inline the Content-Security-Policy would block (the
colours are classes of ``static/governance/governance.css``), readable without JavaScript and testable as text.

:func:`line_chart` lays out series of daily values over a window of days: each series becomes polylines (a gap of
more than one day without a value breaks the line, so a missing day is not drawn as a trend), the y axis gets a few
round ticks and the x axis the first, middle and last day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class Series:
    """One line: a label for the legend, a CSS class for its colour, and its values by day."""

    label: str
    css: str
    values: dict[date, int]


@dataclass(frozen=True)
class Tick:
    label: str
    position: float


@dataclass
class Line:
    label: str
    css: str
    segments: list[str] = field(default_factory=list)  # "x,y x,y ..." of two points or more
    dots: list[tuple[float, float]] = field(default_factory=list)  # lone points, and the last point
    first: int | None = None
    last: int | None = None


@dataclass
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    start: date
    end: date

    @property
    def x_end(self) -> float:
        return self.width - self.right

    @property
    def y_end(self) -> float:
        return self.height - self.bottom

    @property
    def y_label_x(self) -> float:
        return self.left - 6

    @property
    def x_label_y(self) -> float:
        return self.height - self.bottom + 17

    @property
    def empty(self) -> bool:
        return all(line.last is None for line in self.lines)

    @property
    def summary(self) -> str:
        """A sentence for screen readers: each series from its first to its last value."""
        parts = [f"{line.label} {line.first} to {line.last}" for line in self.lines if line.last is not None] or [
            "no values"
        ]
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}: " + ", ".join(parts) + "."


def nice_ceiling(value: int) -> tuple[int, int]:
    """The top of the y axis and its step: a round number at or above ``value``, in at most four steps."""
    value = max(int(value), 1)
    magnitude = 10 ** max(int(math.log10(value)) - 1, 0)
    for base in (1, 2, 5, 10, 20, 50):
        step = base * magnitude
        if value <= step * 4:
            return step * math.ceil(value / step), step
    step = 100 * magnitude
    return step * math.ceil(value / step), step


def line_chart(
    series: Sequence[Series],
    start: date,
    end: date,
    *,
    width: int = 640,
    height: int = 200,
    axes: bool = True,
) -> Chart:
    """Lay out ``series`` over the days ``start``..``end`` (both included) in a ``width`` x ``height`` box."""
    left, right, top, bottom = (36.0, 8.0, 10.0, 24.0) if axes else (3.0, 3.0, 3.0, 3.0)
    plot_w, plot_h = width - left - right, height - top - bottom
    days = max((end - start).days, 1)
    highest = max((v for s in series for d, v in s.values.items() if start <= d <= end), default=0)
    y_max, step = nice_ceiling(highest)

    def x_of(day: date) -> float:
        return round(left + plot_w * (day - start).days / days, 1)

    def y_of(value: int) -> float:
        return round(top + plot_h - plot_h * value / y_max, 1)

    lines = []
    for s in series:
        line = Line(s.label, s.css)
        run: list[tuple[float, float]] = []
        previous: date | None = None
        for day in sorted(d for d in s.values if start <= d <= end):
            point = (x_of(day), y_of(s.values[day]))
            if previous is not None and day - previous > timedelta(days=1):
                _close(line, run)
                run = []
            run.append(point)
            previous = day
            line.first = s.values[day] if line.first is None else line.first
            line.last = s.values[day]
        _close(line, run)
        if len(run) > 1:
            line.dots.append(run[-1])  # where the line ends: today's value, or the last day known
        lines.append(line)
    y_ticks = [Tick(str(v), y_of(v)) for v in range(0, y_max + 1, step)] if axes else []
    middle = start + timedelta(days=days // 2)
    x_ticks = [Tick(f"{d:%b %d}", x_of(d)) for d in (start, middle, end)] if axes else []
    return Chart(width, height, left, right, top, bottom, lines, y_ticks, x_ticks, start, end)


def _close(line: Line, run: list[tuple[float, float]]) -> None:
    if len(run) > 1:
        line.segments.append(" ".join(f"{x},{y}" for x, y in run))
    elif run:
        line.dots.append(run[0])
