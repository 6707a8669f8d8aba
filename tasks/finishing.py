"""The finishing job: a thin actor over `app.finishing.jobs`."""

from __future__ import annotations

import dramatiq

from app.finishing import jobs

TIME_LIMIT_MS = 30 * 60 * 1000


@dramatiq.actor(actor_name=jobs.FINISH_ACTOR, max_retries=0, time_limit=TIME_LIMIT_MS)
async def finish_video(finishing_id: int) -> None:
    """Make the renditions of one finishing request."""
    await jobs.run(finishing_id)
