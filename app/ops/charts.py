"""Bar charts as plain numbers for an SVG template: each bar's box, the axis ticks, the day labels.

The template draws them (no chart library, no script); the same numbers go in a table beside the chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 24


@dataclass
class Series:
    name: str
    css: str  # the class that colours it
    values: list[float]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass
class Chart:
    title: str
    days: list[str]
    series: list[Series]
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    day_labels: list[tuple[float, str]] = field(default_factory=list)  # (x, label)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: float = HEIGHT - BOTTOM

    @property
    def rows(self) -> list[tuple[str, list[float]]]:
        """The chart's numbers for its table: one row per day."""
        return [(day, [s.values[i] for s in self.series]) for i, day in enumerate(self.days)]

    @property
    def totals(self) -> list[float]:
        return [sum(s.values) for s in self.series]


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _label(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def stacked_bars(title: str, days: list[str], series: list[Series]) -> Chart:
    """One bar per day, the series stacked bottom to top in the order given."""
    chart = Chart(title=title, days=days, series=series)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = _nice_max(max((sum(s.values[i] for s in series) for i in range(len(days))), default=0))
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)
    for i, day in enumerate(days):
        base = chart.bottom_y
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            h = value / top * plot_h
            base -= h
            chart.bars.append(
                Bar(
                    x=round(LEFT + i * slot + (slot - bar_w) / 2, 2),
                    y=round(base, 2),
                    width=round(bar_w, 2),
                    height=round(h, 2),
                    css=s.css,
                    label=f"{day}: {_label(value)} {s.name}",
                )
            )
    chart.ticks = [(round(chart.bottom_y - f * plot_h, 2), _label(top * f)) for f in (0, 0.5, 1)]
    last = len(days) - 1
    # A label a week, and the last day's unless it would touch the one before.
    shown = [i for i in range(len(days)) if i % 7 == 0 and last - i >= 3 or i == last]
    chart.day_labels = [(round(LEFT + i * slot + slot / 2, 2), days[i][5:]) for i in shown]
    return chart
