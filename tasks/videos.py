"""The generation job: a thin actor over `app.videos.pipeline`."""

from __future__ import annotations

import logging

import dramatiq

from app.providers import openai_videos, runway, veo  # noqa: F401  (loaded at start, not in a worker's first job)
from app.videos import pipeline

log = logging.getLogger("adsvideo.generation")

# The service retries transient provider errors itself (at most 3 per job), so Dramatiq must not
# add its own; a run that dies is resumed by the reconciler. The time limit outlasts the job timeout.
TIME_LIMIT_MS = 2 * 3600 * 1000


@dramatiq.actor(max_retries=0, time_limit=TIME_LIMIT_MS)
async def generate_video(video_id: int, takeover: bool = False) -> None:
    """Make video `video_id` (or resume it); `takeover` means its previous run died."""
    try:
        await pipeline.run(video_id, takeover=takeover)
    except pipeline.HandBack:
        generate_video.send(video_id)  # this worker is stopping; another one resumes the job
        log.info("video %s: handed back to the queue (this worker is stopping)", video_id)
