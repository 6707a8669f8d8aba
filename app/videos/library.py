"""A user's videos as the pages show them: a filtered, paginated list; one video with its progress log.

Everything is scoped to the owner: another user's video is reported as missing (None), never as forbidden.
`video_context(video)` builds what `partials/videos/_progress.html` and `_result.html` need, so the live
progress stream can render the same partials outside a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.media.storage import media_url
from app.tables import (
    CreditTransactions,
    LedgerReason,
    TrialImages,
    Uploads,
    VideoEvents,
    Videos,
    VideoStatus,
)

PER_PAGE = 12
FILTERS = {
    "all": ("All", None),
    "active": ("In progress", (VideoStatus.pending.value, VideoStatus.processing.value)),
    "completed": ("Completed", (VideoStatus.completed.value,)),
    "failed": ("Failed", (VideoStatus.failed.value,)),
}
# The pipeline's steps in order (DESIGN.md §6); the log marks each done, current or to come.
STEPS = [
    ("queued", "Queued"),
    ("preparing", "Preparing the reference image"),
    ("submitting", "Submitting to the model"),
    ("waiting", "Waiting in the model's queue"),
    ("generating", "Generating"),
    ("downloading", "Saving the video"),
    ("completed", "Done"),
]
STATUS_LABELS = {
    VideoStatus.pending.value: "Queued",
    VideoStatus.processing.value: "Generating",
    VideoStatus.completed.value: "Ready",
    VideoStatus.failed.value: "Failed",
}


@dataclass(frozen=True)
class VideoPage:
    videos: list[Videos]
    page: int
    pages: int
    total: int
    status: str

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def normalise_filter(status: str | None) -> str:
    return status if status in FILTERS else "all"


async def list_videos(user_id: int, status: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> VideoPage:
    """A page of the user's videos, newest first; `status` is one of FILTERS (anything else means all)."""
    status = normalise_filter(status)
    condition = Videos.user == user_id
    statuses = FILTERS[status][1]
    if statuses:
        condition &= Videos.status.is_in(list(statuses))
    total = await Videos.count().where(condition)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    videos = (
        await Videos.objects()
        .where(condition)
        .order_by(Videos.created_at, ascending=False)
        .order_by(Videos.id, ascending=False)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return VideoPage(videos=list(videos), page=page, pages=pages, total=total, status=status)


async def get_video(user_id: int, video_id: int) -> Videos | None:
    """The video if it is `user_id`'s, else None."""
    return await Videos.objects().where((Videos.id == video_id) & (Videos.user == user_id)).first()


async def group_videos(user_id: int, group_id: str) -> list[Videos]:
    """The user's variations of one request, in the order they were made (none for anyone else's group)."""
    if not group_id or len(group_id) > 36:
        return []
    return list(await Videos.objects().where((Videos.user == user_id) & (Videos.group_id == group_id))
                .order_by(Videos.id))


async def events(video_id: int) -> list[VideoEvents]:
    return list(
        await VideoEvents.objects()
        .where(VideoEvents.video == video_id)
        .order_by(VideoEvents.created_at)
        .order_by(VideoEvents.id)
    )


async def refunded_credits(video_id: int) -> int:
    rows = await CreditTransactions.select(CreditTransactions.delta).where(
        (CreditTransactions.video == video_id) & (CreditTransactions.reason == LedgerReason.refund.value)
    )
    return sum(r["delta"] for r in rows)


async def reference_url(video: Videos) -> str | None:
    """Where the page can show the video's reference image (the owner's upload or a trial image)."""
    if video.reference_upload:
        row = await Uploads.select(Uploads.storage_key).where(Uploads.id == video.reference_upload).first()
        if row:
            return media_url(row["storage_key"])
    if video.reference_trial_image:
        row = await TrialImages.select(TrialImages.image_url).where(TrialImages.id == video.reference_trial_image).first()
        if row:
            return row["image_url"]
    return video.reference_image_url


def step_states(video: Videos, log: list[VideoEvents]) -> list[dict[str, str]]:
    """Each pipeline step with its state: done, current, failed or todo."""
    seen = {event.step for event in log}
    keys = [key for key, _ in STEPS]
    reached = [event.step for event in log if event.step in keys]
    current = video.step if video.step in keys else (reached[-1] if reached else "queued")
    index = keys.index(current)
    finished = video.status == VideoStatus.completed.value
    failed = video.status == VideoStatus.failed.value
    states = []
    for i, (key, label) in enumerate(STEPS):
        if finished or i < index or (key in seen and i != index):
            state = "done"
        elif i == index:
            state = "failed" if failed else "current"
        else:
            state = "todo"
        states.append({"key": key, "label": label, "state": state})
    return states


def is_finished(video: Videos) -> bool:
    return video.status in (VideoStatus.completed.value, VideoStatus.failed.value)


async def video_context(video: Videos) -> dict[str, Any]:
    """Everything the video partials render from (page, htmx and SSE alike)."""
    log = await events(video.id)
    return {
        "video": video,
        "events": log,
        "steps": step_states(video, log),
        "status_label": STATUS_LABELS.get(video.status, video.status),
        "finished": is_finished(video),
        "video_src": media_url(video.video_key) or video.video_url,
        "poster_src": media_url(video.poster_key) or video.poster_url,
        "reference_src": await reference_url(video),
        "refunded": await refunded_credits(video.id) if video.status == VideoStatus.failed.value else 0,
    }


def card_context(video: Videos) -> dict[str, Any]:
    return {
        "video": video,
        "status_label": STATUS_LABELS.get(video.status, video.status),
        "poster_src": media_url(video.poster_key) or video.poster_url,
    }
