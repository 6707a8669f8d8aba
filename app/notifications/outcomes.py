"""What follows a finished job: the owner's notification (and email) and the API clients' webhooks.

Called by the pipeline once the result is committed, before it is announced, so the live `done`
event already carries the new bell count. Nothing here may fail or slow the video: emails and
webhooks are only queued, and any error is logged and swallowed.
"""

from __future__ import annotations

import logging
from typing import Any

from app.media.storage import media_url
from app.notifications.inbox import notify
from app.tables import NotificationKind, Videos, VideoStatus
from app.webhooks import dispatch

log = logging.getLogger("adsvideo.notifications")

PROMPT_PREVIEW = 80


def _preview(prompt: str) -> str:
    text = " ".join((prompt or "").split())
    return text if len(text) <= PROMPT_PREVIEW else text[: PROMPT_PREVIEW - 1] + "…"


def video_payload(video: Videos) -> dict[str, Any]:
    """The `data` of video.completed / video.failed: the API's view of the video."""
    return {
        "id": video.id,
        "status": video.status,
        "prompt": video.prompt,
        "model": video.model,
        "duration": video.duration,
        "resolution": video.resolution,
        "video_url": media_url(video.video_key) or video.video_url,
        "poster_url": media_url(video.poster_key) or video.poster_url,
        "error_message": video.error_message,
        "credits_charged": video.credits_charged,
        "completed_at": video.completed_at.isoformat() if video.completed_at else None,
    }


async def video_finished(video_id: int, *, refunded: int = 0) -> None:
    """Tell the owner and their webhooks that the video completed or failed. Never raises."""
    try:
        video = await Videos.objects().where(Videos.id == video_id).first()
        if video is None or video.status not in (VideoStatus.completed.value, VideoStatus.failed.value):
            return
        event = "video.completed" if video.status == VideoStatus.completed.value else "video.failed"
        await dispatch.emit(video.user, event, video_payload(video))
        if video.batch_id:  # announced with its batch, once every video of it has finished (one email for all)
            await _batch_if_finished(video.user, video.batch_id)
        else:
            await _notify_video(video, refunded)
    except Exception:
        log.exception("could not announce the outcome of video %s", video_id)


async def _notify_video(video: Videos, refunded: int) -> None:
    about = f"“{_preview(video.prompt)}”"
    if video.status == VideoStatus.completed.value:
        await notify(
            video.user,
            NotificationKind.video_ready,
            title="Your video is ready",
            body=f"{about} is ready to watch, download and share.",
            link=f"/videos/{video.id}",
            video_id=video.id,
            action_label="Watch it",
        )
        return
    refund = f" Your {refunded:,} credits were refunded." if refunded else ""
    await notify(
        video.user,
        NotificationKind.video_failed,
        title="Your video could not be made",
        body=f"{about}: {video.error_message or 'the video service did not finish it.'}{refund}",
        link=f"/videos/{video.id}",
        video_id=video.id,
        action_label="See what happened",
    )


async def _batch_if_finished(user_id: int, batch_id: str) -> None:
    videos = await Videos.objects().where((Videos.user == user_id) & (Videos.batch_id == batch_id)).order_by(Videos.id)
    if videos and all(v.status in (VideoStatus.completed.value, VideoStatus.failed.value) for v in videos):
        await batch_finished(user_id, batch_id, videos, link=f"/videos/batch/{batch_id}")


async def batch_finished(user_id: int, batch_id: str, videos: list[Videos], *, link: str | None = None) -> None:
    """One notification and one email for a whole batch, and `batch.completed` for webhooks — once per batch,
    however many of its videos finish at the same moment. Never raises."""
    try:
        done = sum(v.status == VideoStatus.completed.value for v in videos)
        failed = len(videos) - done
        body = f"{done} of {len(videos)} videos are ready" + (f"; {failed} could not be made." if failed else ".")
        told = await notify(
            user_id,
            NotificationKind.batch_ready,
            title="Your batch is finished",
            body=body,
            link=link or "/videos",
            action_label="See the videos",
            once=f"batch:{batch_id}",
        )
        if told is None:
            return
        await dispatch.emit(
            user_id,
            "batch.completed",
            {
                "id": batch_id,
                "completed": done,
                "failed": failed,
                "videos": [video_payload(v) for v in videos],
            },
        )
    except Exception:
        log.exception("could not announce the outcome of batch %s", batch_id)
