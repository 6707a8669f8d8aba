"""The admin dashboard against a year of history: seed N videos (default 100,000), then time the figures
and the page, and count the database queries.

    python -m benchmarks.dashboard [N]              # SQLite in a temporary folder
    DATABASE_URL=postgresql://... python -m benchmarks.dashboard [N]   # an empty, migrated PostgreSQL database
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

MODELS = [("openai", "sora-2"), ("openai", "sora-2-pro"), ("runway", "gen4_turbo"), ("google", "veo-3")]
REASONS = [
    "The video service could not make this video: moderation_blocked",
    "The video service kept failing, even after several tries. Please try again later.",
    "The video service took too long to make this video, so we stopped waiting.",
]
BATCH = 500


def _rows(count: int, users: int, now: datetime, rng: random.Random) -> Iterator[tuple[dict, list[dict]]]:
    """(video, its ledger rows) spread evenly over the last 365 days."""
    for _ in range(count):
        created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        provider, model = rng.choice(MODELS)
        roll = rng.random()
        status = "completed" if roll < 0.9 else "failed" if roll < 0.98 else "processing"
        took = timedelta(seconds=rng.lognormvariate(4.5, 0.5))
        user = rng.randrange(users)
        video = {
            "user_id": user,
            "prompt": "A product on a table",
            "model": model,
            "provider": provider,
            "status": status,
            "step": status if status != "processing" else "generating",
            "progress": 100 if status == "completed" else 40,
            "duration": 4,
            "resolution": "1280x720",
            "error_message": rng.choice(REASONS) if status == "failed" else None,
            "credits_charged": 100,
            "charge_seq": 1,
            "attempts": 0,
            "created_at": created,
            "updated_at": created + took,
            "completed_at": created + took if status == "completed" else None,
        }
        ledger = [
            {
                "user_id": user,
                "delta": -100,
                "reason": "generation",
                "charge_seq": 1,
                "balance_after": 0,
                "note": "",
                "created_at": created,
            }
        ]
        if status == "failed":
            ledger.append(
                {
                    "user_id": user,
                    "delta": 100,
                    "reason": "refund",
                    "charge_seq": 1,
                    "balance_after": 100,
                    "note": "",
                    "created_at": created + took,
                }
            )
        yield video, ledger


VIDEO_COLUMNS = [
    "user_id",
    "prompt",
    "model",
    "provider",
    "status",
    "step",
    "progress",
    "duration",
    "resolution",
    "error_message",
    "credits_charged",
    "charge_seq",
    "attempts",
    "created_at",
    "updated_at",
    "completed_at",
]
LEDGER_COLUMNS = ["user_id", "delta", "reason", "charge_seq", "balance_after", "note", "created_at"]


async def seed_history(videos: int = 100_000, users: int = 2_000, seed: int = 7) -> None:
    """Users who signed up over the last year and `videos` videos with their ledger rows, written in bulk
    through the database driver (the ORM would take minutes for this many rows)."""
    from app import db
    from app.tables import Users

    rng = random.Random(seed)
    now = datetime.now(UTC)
    user_rows = [
        (
            f"bench-{i}-{seed}@example.com",
            f"Bench {i}",
            100,
            "free",
            "active",
            False,
            now - timedelta(seconds=rng.uniform(0, 365 * 86400)),
            now,
        )
        for i in range(users)
    ]
    engine = Users._meta.db
    user_columns = [
        "email",
        "name",
        "credits",
        "subscription_plan",
        "subscription_status",
        "is_admin",
        "created_at",
        "updated_at",
    ]
    if db.is_postgres(engine):
        import asyncpg

        conn = await asyncpg.connect(
            engine.config.get("dsn", None), **{k: v for k, v in engine.config.items() if k != "dsn"}
        )
        try:
            await conn.copy_records_to_table("users", records=user_rows, columns=user_columns)
            first = await conn.fetchval("SELECT MIN(id) FROM users WHERE email LIKE 'bench-%'")
            video_rows, ledger_rows = _materialise(videos, users, now, rng, first)
            await conn.copy_records_to_table("videos", records=video_rows, columns=VIDEO_COLUMNS)
            await conn.copy_records_to_table("credit_transactions", records=ledger_rows, columns=LEDGER_COLUMNS)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        return
    import sqlite3

    def stored(value):  # how the SQLite engine stores timestamps and booleans
        if isinstance(value, datetime):
            return str(value)
        return int(value) if isinstance(value, bool) else value

    with sqlite3.connect(db.sqlite_path(os.environ["DATABASE_URL"])) as conn:
        conn.executemany(
            f"INSERT INTO users ({', '.join(user_columns)}) VALUES ({', '.join('?' * len(user_columns))})",
            [tuple(stored(v) for v in row) for row in user_rows],
        )
        first = conn.execute("SELECT MIN(id) FROM users WHERE email LIKE 'bench-%'").fetchone()[0]
        video_rows, ledger_rows = _materialise(videos, users, now, rng, first)
        conn.executemany(
            f"INSERT INTO videos ({', '.join(VIDEO_COLUMNS)}) VALUES ({', '.join('?' * len(VIDEO_COLUMNS))})",
            [tuple(stored(v) for v in row) for row in video_rows],
        )
        conn.executemany(
            f"INSERT INTO credit_transactions ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join('?' * len(LEDGER_COLUMNS))})",
            [tuple(stored(v) for v in row) for row in ledger_rows],
        )
        conn.execute("ANALYZE")


def _materialise(videos: int, users: int, now: datetime, rng: random.Random, first_user: int):
    video_rows, ledger_rows = [], []
    for video, ledger in _rows(videos, users, now, rng):
        video["user_id"] += first_user
        video_rows.append(tuple(video[c] for c in VIDEO_COLUMNS))
        for row in ledger:
            row["user_id"] += first_user
            ledger_rows.append(tuple(row[c] for c in LEDGER_COLUMNS))
    return video_rows, ledger_rows


_counting: ContextVar[list[tuple[str, float]] | None] = ContextVar("counting_queries", default=None)


@contextmanager
def counting_queries() -> Iterator[list[tuple[str, float]]]:
    """Every SQL statement run inside the block by this context (not by other threads, such as a worker's
    reconciler sharing the engine), with its time in ms."""
    from app.tables import Users

    engine_class = type(Users._meta.db)
    seen: list[tuple[str, float]] = []
    original = engine_class.run_querystring

    async def counted(self, querystring, *args, **kwargs):
        started = time.perf_counter()
        try:
            return await original(self, querystring, *args, **kwargs)
        finally:
            sink = _counting.get()
            if sink is not None:
                sink.append((str(querystring), (time.perf_counter() - started) * 1000))

    engine_class.run_querystring = counted  # on the class: the PostgreSQL engine has __slots__
    token = _counting.set(seen)
    try:
        yield seen
    finally:
        _counting.reset(token)
        engine_class.run_querystring = original


async def measure(videos: int) -> None:
    from app.ops import usage

    started = time.perf_counter()
    await seed_history(videos)
    print(f"seeded {videos:,} videos over 365 days in {time.perf_counter() - started:.1f} s")
    for attempt in ("cold", "warm"):
        with counting_queries() as queries:
            started = time.perf_counter()
            figures = await usage.dashboard()
            elapsed = time.perf_counter() - started
        print(
            f"dashboard figures ({attempt}){'':<14} {elapsed * 1000:8.1f} ms   {len(queries)} queries   "
            f"({figures.made.month:,} made, {figures.failed.month:,} failed in 30 days)"
        )
    for sql, ms in sorted(queries, key=lambda q: -q[1])[:3]:
        print(f"  slowest: {ms:7.1f} ms  {' '.join(sql.split())[:110]}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("MEDIA_ROOT", f"{tmp}/media")

        async def run() -> None:
            from app import db
            from app.migrate import migrate

            engine = db.make_engine(url)
            db.bind_engine(engine)
            await migrate()
            if db.is_postgres(engine):
                await db.start_pool(engine)  # as the web process does: no connection set-up per query
            try:
                await measure(count)
            finally:
                await db.close_pool(engine)

        print(f"database: {url.split('@')[-1]}")
        asyncio.run(run())


if __name__ == "__main__":
    main()
