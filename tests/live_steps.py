"""Play the worker's part for live-progress tests: write a step to the database, then publish it."""

from __future__ import annotations

from datetime import datetime, timezone

from app.billing import ledger
from app.tables import LedgerReason, Users, VideoEvents, Videos, VideoStatus
from app.videos import progress

STATUS_FOR = {
    "queued": VideoStatus.pending.value,
    "completed": VideoStatus.completed.value,
    "failed": VideoStatus.failed.value,
}


async def new_video(user_id: int, *, charge: int = 0) -> int:
    """A pending video with its "queued" event, as `POST generate` leaves it (optionally charged)."""
    video = Videos(user=user_id, prompt="A red shoe on a beach", model="sora-2", duration=4, resolution="1280x720")
    await video.save()
    if charge:
        await ledger.apply(user_id, -charge, LedgerReason.generation, video_id=video.id, charge_seq=1)
        await Videos.update({Videos.credits_charged: charge, Videos.charge_seq: 1}).where(Videos.id == video.id)
    await step(video.id, "queued", publish=False)
    return video.id


async def step(
    video_id: int,
    name: str,
    progress_pct: int = 0,
    message: str = "",
    *,
    publish: bool = True,
    error: str | None = None,
) -> int:
    """Record step `name` (event row + the video's state) and announce it; the event id."""
    status = STATUS_FOR.get(name, VideoStatus.processing.value)
    async with VideoEvents._meta.db.transaction():
        event = VideoEvents(video=video_id, step=name, progress=progress_pct, message=message or name.capitalize())
        await event.save()
        changes = {Videos.step: name, Videos.progress: progress_pct, Videos.status: status}
        if name in ("completed", "failed"):
            changes[Videos.completed_at] = datetime.now(timezone.utc)
        if error:
            changes[Videos.error_message] = error
        await Videos.update(changes).where(Videos.id == video_id)
    if publish:
        await announce(video_id, event.id)
    return event.id


async def announce(video_id: int, event_id: int) -> None:
    video = (
        await Videos.select(Videos.user.as_alias("owner"), Videos.step, Videos.status, Videos.progress)
        .where(Videos.id == video_id)
        .first()
    )
    await progress.publish(
        video_id,
        video["owner"],
        {
            "video_id": video_id,
            "event_id": event_id,
            "step": video["step"],
            "status": video["status"],
            "progress": video["progress"],
            "message": "",
            "done": video["status"] in ("completed", "failed"),
        },
    )


async def fail_with_refund(video_id: int, reason: str = "The model rejected the prompt.") -> int:
    video = await Videos.objects().where(Videos.id == video_id).first()
    await ledger.apply(
        video.user, video.credits_charged, LedgerReason.refund, video_id=video_id, charge_seq=video.charge_seq
    )
    return await step(video_id, "failed", video.progress, reason, error=reason)


async def credits(user_id: int) -> int:
    return (await Users.select(Users.credits).where(Users.id == user_id).first())["credits"]


HAPPY_PATH = [
    ("preparing", 0),
    ("submitting", 0),
    ("waiting", 0),
    ("generating", 40),
    ("generating", 90),
    ("downloading", 100),
    ("completed", 100),
]
