"""The reconciler: jobs whose worker died (no progress for `job_stale_seconds`) are queued again, to resume."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from app.config import get_settings
from app.finishing import jobs as finishing_jobs
from app.tables import ACTIVE_STATUSES, Videos
from app.videos import service, slots
from app.webhooks import dispatch

log = logging.getLogger("adsvideo.reconciler")

BATCH = 100


async def reconcile() -> list[int]:
    """Re-enqueue every pending or processing video untouched for `job_stale_seconds`; returns their ids.

    Each step's event and each running job's heartbeat touch the row, so "untouched" means nobody
    is working on it. Touching it here first means two reconcilers never queue the same video twice
    in one period, and the `takeover` flag lets the new run pick up where the dead one stopped.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=get_settings().job_stale_seconds)
    stale = (
        await Videos.select(Videos.id)
        .where(Videos.status.is_in(list(ACTIVE_STATUSES)) & (Videos.updated_at < cutoff))
        .order_by(Videos.id)
        .limit(BATCH)
    )
    requeued = []
    for row in stale:
        claimed = (
            await Videos.update({Videos.updated_at: datetime.now(UTC)})
            .where((Videos.id == row["id"]) & Videos.status.is_in(list(ACTIVE_STATUSES)) & (Videos.updated_at < cutoff))
            .returning(Videos.id)
        )
        if claimed:
            service.enqueue(row["id"], takeover=True)
            requeued.append(row["id"])
    if requeued:
        log.info("re-enqueued stale videos %s", requeued)
    finishing = await finishing_jobs.reconcile()
    if finishing:
        log.info("re-enqueued stale finishings %s", finishing)
    webhooks = await dispatch.requeue_overdue()
    if webhooks:
        log.info("re-enqueued overdue webhook deliveries %s", webhooks)
    freed = await slots.sweep()
    if freed:
        log.info("freed %d job slots of videos no longer being made", freed)
    return requeued
