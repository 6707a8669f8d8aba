"""The dashboard's figures arranged for its template: charts over the last 30 days and the tables beside them."""

from __future__ import annotations

from typing import Any

from app.ops.charts import Series, stacked_bars
from app.ops.usage import Dashboard


def dashboard_context(d: Dashboard, refresh_seconds: int) -> dict[str, Any]:
    days = d.window.days
    videos = [d.videos_by_day.get(day, {}) for day in days]
    credits = [d.credits_by_day.get(day, {}) for day in days]
    charts = [
        stacked_bars(
            "Videos per day",
            days,
            [
                Series("completed", "bar-completed", [v.get("completed", 0) for v in videos]),
                Series("failed", "bar-failed", [v.get("failed", 0) for v in videos]),
                Series("in progress", "bar-pending", [v.get("pending", 0) + v.get("processing", 0) for v in videos]),
            ],
        ),
        stacked_bars(
            "Sign-ups per day",
            days,
            [
                Series("sign-ups", "bar-signups", [d.signups_by_day.get(day, 0) for day in days]),
            ],
        ),
        stacked_bars(
            "Credits per day",
            days,
            [
                Series("charged", "bar-charged", [-c.get("generation", 0) for c in credits]),
                Series("refunded", "bar-refunded", [c.get("refund", 0) for c in credits]),
            ],
        ),
    ]
    return {
        "d": d,
        "charts": charts,
        "refresh_seconds": refresh_seconds,
        "section": "dashboard",
        "fmt_seconds": fmt_seconds,
    }


def fmt_seconds(value: float | None) -> str:
    """ "42 s", "3 min 05 s", "2 h 10 min"; "–" when there is nothing to measure."""
    if value is None:
        return "–"
    seconds = int(round(value))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
