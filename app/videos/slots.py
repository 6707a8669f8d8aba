"""Per-user caps: provider jobs in flight (per plan) and unfinished videos in our queue.

A job takes a slot before it starts work at a provider (or any other heavy job, e.g. finishing) and
gives it back when it ends. Without a free slot a video waits in our queue, visibly, and is queued
again when a slot frees. Slots are rows of `job_slots`, taken under a lock on the user's row, so
parallel workers on SQLite or PostgreSQL never exceed the cap.

Other kinds of jobs use the same cap: `acquire(user_id, "finish", finish_id)` before starting,
`release("finish", finish_id)` when done (which also starts a waiting video).
"""

from __future__ import annotations

import logging
import time

from piccolo.columns.combination import WhereRaw

from app.config import get_settings
from app.db import is_postgres
from app.errors import AppError
from app.tables import Users, Videos, VideoStatus

log = logging.getLogger("adsvideo.slots")

VIDEO = "video"
ACTIVE = [VideoStatus.pending.value, VideoStatus.processing.value]
# How the event of a video refused a slot begins; only such videos are queued again when one frees.
WAITING = "Waiting for a free slot"


class TooManyJobs(AppError):
    status_code = 429
    code = "too_many_jobs"

    def __init__(self, limit: int):
        super().__init__(
            f"You already have {limit} videos waiting or being made, the most at once. "
            "Start more when some have finished."
        )
        self.headers = {"Retry-After": "60"}


def waiting_message(busy: int, cap: int) -> str:
    return f"{WAITING}: {busy} of your videos are being made and your plan makes {cap} at a time."


async def cap_for(user_id: int) -> int:
    row = await Users.select(Users.subscription_plan).where(Users.id == user_id).first()
    return get_settings().jobs_in_flight_cap(row["subscription_plan"] if row else None)


async def in_flight(user_id: int) -> int:
    rows = await Users.raw("SELECT COUNT(*) AS n FROM job_slots WHERE user_id = {}", user_id)
    return int(rows[0]["n"]) if rows else 0


async def acquire(user_id: int, kind: str, ref_id: int) -> bool:
    """Take a slot for job (kind, ref_id); False when the user's cap is reached. Idempotent per job."""
    engine = Users._meta.db
    async with engine.transaction():
        if is_postgres(engine):
            # No wait for the disk: only a database crash could lose this slot, along with the steps after
            # it (the run's next durable commit writes it out), and the job then starts again from the queue.
            await engine.run_ddl("SET LOCAL synchronous_commit = off")
        # Writing the user's row first serialises concurrent takers of this user's slots: a row lock on
        # PostgreSQL, the database write lock on SQLite. It reads their plan on the way.
        locked = await Users.raw("UPDATE users SET id = id WHERE id = {} RETURNING subscription_plan", user_id)
        cap = get_settings().jobs_in_flight_cap(locked[0]["subscription_plan"] if locked else None)
        rows = await Users.raw(
            "SELECT COUNT(*) AS n, MAX(CASE WHEN kind = {} AND ref_id = {} THEN 1 ELSE 0 END) AS held "
            "FROM job_slots WHERE user_id = {}",
            kind,
            ref_id,
            user_id,
        )
        if rows and rows[0]["held"]:
            return True
        if (int(rows[0]["n"]) if rows else 0) >= cap:
            return False
        await Users.raw(
            "INSERT INTO job_slots (kind, ref_id, user_id, acquired_at) VALUES ({}, {}, {}, {})",
            kind,
            ref_id,
            user_id,
            int(time.time()),
        )
    return True


async def release(kind: str, ref_id: int) -> None:
    """Give the slot of job (kind, ref_id) back (if it held one) and start the user's next waiting video."""
    rows = await Users.raw("DELETE FROM job_slots WHERE kind = {} AND ref_id = {} RETURNING user_id", kind, ref_id)
    if not rows:
        return
    await wake_waiting(int(rows[0]["user_id"]))


async def wake_waiting(user_id: int) -> list[int]:
    """Queue again as many of the user's waiting videos (oldest first) as they have free slots.

    Only videos whose last word is that refusal: a queued video never refused still has its message in
    the queue, and sending it again would only make a worker look at it twice.
    """
    free = await cap_for(user_id) - await in_flight(user_id)
    if free <= 0:
        return []
    waiting = await (
        Videos.select(Videos.id)
        .where(
            (Videos.user == user_id)
            & Videos.status.is_in(ACTIVE)
            & (Videos.step == "queued")
            & Videos.provider_job_id.is_null()
            & WhereRaw(
                "(SELECT e.message FROM video_events e WHERE e.video_id = videos.id "
                "ORDER BY e.id DESC LIMIT 1) LIKE {}",
                f"{WAITING}%",
            )
        )
        .order_by(Videos.id)
        .limit(free)
    )
    from app.videos.service import enqueue  # the service imports this module

    for row in waiting:
        enqueue(row["id"])
    return [row["id"] for row in waiting]


async def sweep() -> int:
    """Free the slots of videos that are no longer being made (deleted, or finished by a run that died)."""
    rows = await Users.raw(
        "SELECT s.ref_id, s.user_id FROM job_slots s LEFT JOIN videos v ON v.id = s.ref_id "
        "WHERE s.kind = {} AND (v.id IS NULL OR v.status NOT IN ({}, {}))",
        VIDEO,
        *ACTIVE,
    )
    for row in rows:
        await release(VIDEO, int(row["ref_id"]))
    return len(rows)


async def check_queue_room(user_id: int) -> None:
    """Raise TooManyJobs when the user has more unfinished videos than MAX_QUEUED_JOBS_PER_USER.

    Called inside the transaction that stores (and charges) new videos, after the user's balance was
    updated (which locks their row): a refusal rolls the charge back, and parallel requests count exactly.
    """
    limit = get_settings().max_queued_jobs_per_user
    unfinished = await Videos.count().where((Videos.user == user_id) & Videos.status.is_in(ACTIVE))
    if unfinished > limit:
        raise TooManyJobs(limit)
