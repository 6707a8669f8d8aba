"""Usage figures for the admin dashboard and the account pages: aggregated in the database, never row by row.

Every query filters on an indexed `created_at` (or `user_id, created_at`) range and groups in SQL, so
the work grows with the window (30 days), not with the history. Days are UTC days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app import db
from app.ops import queue
from app.tables import Users

WINDOW_DAYS = 30
FINISHED = ("completed", "failed")


def _pg() -> bool:
    return db.is_postgres(Users._meta.db)


def _day(column: str) -> str:
    """The UTC calendar day of a timestamp column, as 'YYYY-MM-DD'."""
    if _pg():
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"  # stored as 'YYYY-MM-DD HH:MM:SS+00:00'


def _seconds(start: str, end: str) -> str:
    if _pg():
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await Users.raw(sql, *(_param(a) for a in args))


def _param(value: Any) -> Any:
    """SQLite keeps timestamps as text ('YYYY-MM-DD HH:MM:SS+00:00'), compared as text: a bound value must
    be written the same way (the driver's own ISO form, with a 'T', would sort after every time of its day)."""
    if isinstance(value, datetime) and not _pg():
        return str(value.astimezone(UTC))
    return value


@dataclass
class Window:
    """Today and the last 30 days, in UTC."""

    now: datetime
    today: datetime
    since: datetime
    days: list[str]

    @classmethod
    def ending(cls, now: datetime | None = None) -> Window:
        now = now or datetime.now(UTC)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        since = today - timedelta(days=WINDOW_DAYS - 1)
        days = [(since + timedelta(days=i)).date().isoformat() for i in range(WINDOW_DAYS)]
        return cls(now=now, today=today, since=since, days=days)

    @property
    def today_key(self) -> str:
        return self.today.date().isoformat()


@dataclass
class Pair:
    today: float = 0
    month: float = 0


@dataclass
class ModelRow:
    provider: str
    model: str
    made: Pair = field(default_factory=Pair)
    failed: Pair = field(default_factory=Pair)
    in_flight: int = 0

    @property
    def failure_rate(self) -> float | None:
        finished = self.made.month + self.failed.month
        return self.failed.month / finished if finished else None


@dataclass
class Dashboard:
    window: Window
    signups: Pair
    signups_by_day: dict[str, int]
    active_users: Pair
    videos_by_day: dict[str, dict[str, int]]
    models: list[ModelRow]
    providers: list[dict[str, Any]]
    failure_reasons: list[dict[str, Any]]
    generation_seconds: dict[str, dict[str, float | None]]
    credits: dict[str, Pair]
    credits_by_day: dict[str, dict[str, int]]
    revenue: dict[str, Pair]  # by currency, in cents: credit packs paid through Checkout
    queue_depths: dict[str, int]
    waiting: int
    oldest_waiting_seconds: float

    @property
    def made(self) -> Pair:
        return Pair(sum(m.made.today for m in self.models), sum(m.made.month for m in self.models))

    @property
    def failed(self) -> Pair:
        return Pair(sum(m.failed.today for m in self.models), sum(m.failed.month for m in self.models))


async def _signups(w: Window) -> dict[str, int]:
    day = _day("created_at")
    rows = await _rows(
        f"SELECT {day} AS day, COUNT(*) AS n FROM users WHERE created_at >= {{}} GROUP BY {day}", w.since
    )
    return {r["day"]: int(r["n"]) for r in rows}


async def _active_users(w: Window) -> Pair:
    """Users who made a video (today, in the window)."""
    rows = await _rows(
        "SELECT COUNT(DISTINCT user_id) AS month,"
        " COUNT(DISTINCT CASE WHEN created_at >= {} THEN user_id END) AS today"
        " FROM videos WHERE created_at >= {}",
        w.today,
        w.since,
    )
    return Pair(int(rows[0]["today"] or 0), int(rows[0]["month"] or 0))


async def _videos_by_day(w: Window) -> dict[str, dict[str, int]]:
    day = _day("created_at")
    rows = await _rows(
        f"SELECT {day} AS day, status, COUNT(*) AS n FROM videos WHERE created_at >= {{}} GROUP BY {day}, status",
        w.since,
    )
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["day"], {})[r["status"]] = int(r["n"])
    return out


async def _models(w: Window) -> list[ModelRow]:
    rows = await _rows(
        "SELECT provider, model, status, COUNT(*) AS month,"
        " SUM(CASE WHEN created_at >= {} THEN 1 ELSE 0 END) AS today"
        " FROM videos WHERE created_at >= {} GROUP BY provider, model, status",
        w.today,
        w.since,
    )
    by_key: dict[tuple[str, str], ModelRow] = {}
    for r in rows:
        row = by_key.setdefault((r["provider"], r["model"]), ModelRow(r["provider"], r["model"]))
        if r["status"] == "completed":
            row.made = Pair(int(r["today"] or 0), int(r["month"]))
        elif r["status"] == "failed":
            row.failed = Pair(int(r["today"] or 0), int(r["month"]))
        else:
            row.in_flight += int(r["month"])
    return sorted(by_key.values(), key=lambda m: (-(m.made.month + m.failed.month), m.provider, m.model))


def _providers(models: list[ModelRow]) -> list[dict[str, Any]]:
    """Each provider's share of failed generations among its finished ones, over the window."""
    totals: dict[str, list[float]] = {}
    for m in models:
        made, failed = totals.setdefault(m.provider, [0, 0])
        totals[m.provider] = [made + m.made.month, failed + m.failed.month]
    return [
        {
            "provider": name,
            "finished": int(made + failed),
            "failed": int(failed),
            "rate": failed / (made + failed) if made + failed else None,
        }
        for name, (made, failed) in sorted(totals.items())
    ]


async def _failure_reasons(w: Window, limit: int = 8) -> list[dict[str, Any]]:
    rows = await _rows(
        "SELECT provider, model, error_message, COUNT(*) AS n FROM videos"
        " WHERE created_at >= {} AND status = 'failed'"
        " GROUP BY provider, model, error_message ORDER BY n DESC, provider, model LIMIT {}",
        w.since,
        limit,
    )
    return [
        {
            "provider": r["provider"],
            "model": r["model"],
            "reason": r["error_message"] or "(no reason recorded)",
            "count": int(r["n"]),
        }
        for r in rows
    ]


async def _percentiles(since: datetime) -> dict[str, float | None]:
    """Median and 95th percentile of creation-to-completion time of videos completed since `since`."""
    seconds = _seconds("created_at", "completed_at")
    where = "created_at >= {} AND status = 'completed' AND completed_at IS NOT NULL"
    if _pg():
        rows = await _rows(
            f"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY {seconds}) AS p50,"
            f" percentile_disc(0.95) WITHIN GROUP (ORDER BY {seconds}) AS p95 FROM videos WHERE {where}",
            since,
        )
        return {"p50": _float(rows[0]["p50"]), "p95": _float(rows[0]["p95"])}
    count = (await _rows(f"SELECT COUNT(*) AS n FROM videos WHERE {where}", since))[0]["n"]
    if not count:
        return {"p50": None, "p95": None}
    out: dict[str, float | None] = {}
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        rank = max(math.ceil(q * count) - 1, 0)  # as PostgreSQL's percentile_disc picks it
        rows = await _rows(
            f"SELECT {seconds} AS s FROM videos WHERE {where} ORDER BY s LIMIT 1 OFFSET {{}}", since, rank
        )
        out[name] = _float(rows[0]["s"])
    return out


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


async def _credits_by_day(w: Window) -> dict[str, dict[str, int]]:
    day = _day("created_at")
    rows = await _rows(
        f"SELECT {day} AS day, reason, SUM(delta) AS total FROM credit_transactions"
        f" WHERE created_at >= {{}} GROUP BY {day}, reason",
        w.since,
    )
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["day"], {})[r["reason"]] = int(r["total"] or 0)
    return out


def _credit_totals(w: Window, by_day: dict[str, dict[str, int]]) -> dict[str, Pair]:
    """Granted (sign-up, plans, purchases, admin increases), charged and refunded; today and the window."""
    totals = {"granted": Pair(), "charged": Pair(), "refunded": Pair()}
    for day, reasons in by_day.items():
        for reason, total in reasons.items():
            kind = {"generation": "charged", "refund": "refunded"}.get(reason, "granted")
            amount = -total if kind == "charged" else total
            if kind == "granted" and amount < 0:
                continue  # an admin's correction downwards is not a grant
            totals[kind].month += amount
            if day == w.today_key:
                totals[kind].today += amount
    return totals


async def _revenue(w: Window) -> dict[str, Pair]:
    """Credit-pack payments (less nothing: refunds are Stripe's to report), by currency, in cents.
    Subscription invoices are not stored here; Stripe's dashboard has them."""
    rows = await _rows(
        "SELECT currency, SUM(amount) AS month, SUM(CASE WHEN created_at >= {} THEN amount ELSE 0 END) AS today"
        " FROM credit_purchases WHERE created_at >= {} GROUP BY currency",
        w.today,
        w.since,
    )
    return {r["currency"]: Pair(int(r["today"] or 0), int(r["month"] or 0)) for r in rows}


async def dashboard(now: datetime | None = None) -> Dashboard:
    """Every figure of the admin dashboard."""
    w = Window.ending(now)
    signups = await _signups(w)
    models = await _models(w)
    by_day = await _credits_by_day(w)
    depths = await queue.broker_depths()
    waiting, oldest = await queue.waiting_videos()
    return Dashboard(
        window=w,
        signups=Pair(signups.get(w.today_key, 0), sum(signups.values())),
        signups_by_day=signups,
        active_users=await _active_users(w),
        videos_by_day=await _videos_by_day(w),
        models=models,
        providers=_providers(models),
        failure_reasons=await _failure_reasons(w),
        generation_seconds={"today": await _percentiles(w.today), "month": await _percentiles(w.since)},
        credits=_credit_totals(w, by_day),
        credits_by_day=by_day,
        revenue=await _revenue(w),
        queue_depths=depths,
        waiting=waiting,
        oldest_waiting_seconds=oldest,
    )


@dataclass
class UserUsage:
    """One user's month so far: videos by model and credits spent (charged less refunded)."""

    month_start: date
    by_model: list[dict[str, Any]]
    credits_charged: int
    credits_refunded: int

    @property
    def credits_spent(self) -> int:
        return self.credits_charged - self.credits_refunded

    @property
    def videos(self) -> int:
        return sum(m["total"] for m in self.by_model)


async def user_usage(user_id: int, now: datetime | None = None) -> UserUsage:
    now = now or datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # One round trip for both figures: the videos by model and status, then the credits by reason.
    rows = await _rows(
        "SELECT 'video' AS kind, model, status, COUNT(*) AS n FROM videos WHERE user_id = {} AND created_at >= {}"
        " GROUP BY model, status"
        " UNION ALL SELECT 'credits', reason, NULL, SUM(delta) FROM credit_transactions"
        " WHERE user_id = {} AND created_at >= {} AND reason IN ('generation', 'refund') GROUP BY reason",
        user_id,
        start,
        user_id,
        start,
    )
    models: dict[str, dict[str, Any]] = {}
    sums: dict[str, int] = {}
    for r in rows:
        if r["kind"] == "credits":
            sums[r["model"]] = int(r["n"] or 0)
            continue
        entry = models.setdefault(
            r["model"], {"model": r["model"], "completed": 0, "failed": 0, "in_flight": 0, "total": 0}
        )
        kind = r["status"] if r["status"] in FINISHED else "in_flight"
        entry[kind] += int(r["n"])
        entry["total"] += int(r["n"])
    return UserUsage(
        month_start=start.date(),
        by_model=sorted(models.values(), key=lambda m: (-m["total"], m["model"])),
        credits_charged=-sums.get("generation", 0),
        credits_refunded=sums.get("refund", 0),
    )
