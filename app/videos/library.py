"""A user's videos as the pages show them: a filtered, paginated list; one video with its progress log.

Everything is scoped to the owner: another user's video is reported as missing (404), never as forbidden.
`progress_context` builds what `partials/videos/_progress.html` and `_result.html` need, so the live
progress stream can render the same partials outside a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from app.errors import NotFound
from app.media.storage import media_url
from app.tables import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    STEP_LABELS,
    STEPS,
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
    "active": ("In progress", ACTIVE_STATUSES),
    "completed": ("Completed", (VideoStatus.completed.value,)),
    "failed": ("Failed", (VideoStatus.failed.value,)),
}
STATUS_LABELS = {
    VideoStatus.pending.value: "Queued",
    VideoStatus.processing.value: "Generating",
    VideoStatus.completed.value: "Ready",
    VideoStatus.failed.value: "Failed",
}


# What a listed video carries: the library's cards and the API's `VideoOut`, nothing more.
LISTED_COLUMNS = (
    Videos.id,
    Videos.prompt,
    Videos.model,
    Videos.provider,
    Videos.status,
    Videos.step,
    Videos.progress,
    Videos.duration,
    Videos.resolution,
    Videos.reference_image_url,
    Videos.video_url,
    Videos.poster_url,
    Videos.poster_key,
    Videos.error_message,
    Videos.credits_charged,
    Videos.attempts,
    Videos.created_at,
    Videos.updated_at,
    Videos.completed_at,
    Videos.audio,
    Videos.group_id,
    Videos.batch_id,
)
_LISTED_SQL = ", ".join(column._meta.db_column_name for column in LISTED_COLUMNS)


class ListedVideo(SimpleNamespace):
    """One row of a listing: read-only, with the attributes of `LISTED_COLUMNS`."""


@dataclass(frozen=True)
class VideoPage:
    """One page of a user's videos, newest first (the library page and the API alike)."""

    items: list[ListedVideo]
    total: int
    page: int
    per_page: int
    status: str = "all"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def normalise_filter(status: str | None) -> str:
    return status if status in FILTERS else "all"


async def _page_rows(user_id: int, statuses: tuple[str, ...] | None, page: int, per_page: int) -> list[dict]:
    """A page of rows, each with the whole filter's count in `total_count`: one query for both."""
    # Written out once rather than built per request: this runs on every library page and API listing.
    condition = "user_id = {}"
    args: list[Any] = [user_id]
    if statuses:
        condition += f" AND status IN ({', '.join('{}' for _ in statuses)})"
        args += statuses
    return await Videos.raw(
        f"SELECT {_LISTED_SQL}, COUNT(*) OVER () AS total_count FROM videos WHERE {condition}"
        " ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
        *args,
        per_page,
        (page - 1) * per_page,
    )


async def _count(user_id: int, statuses: tuple[str, ...] | None) -> int:
    condition = Videos.user == user_id
    if statuses:
        condition &= Videos.status.is_in(list(statuses))
    return await Videos.count().where(condition)


async def list_videos(
    user_id: int, status: str | None = None, page: int = 1, per_page: int = PER_PAGE, *, clamp: bool = True
) -> VideoPage:
    """A page of the user's videos. `status` is a FILTERS key or a video status (anything else: all);
    with `clamp`, a page past the end shows the last one."""
    if status in FILTERS:
        statuses = FILTERS[status][1]
    elif status in {s.value for s in VideoStatus}:
        statuses = (status,)
    else:
        status, statuses = "all", None
    page = max(1, page) if clamp else page
    rows = await _page_rows(user_id, statuses, page, per_page)
    if rows:
        total = rows[0]["total_count"]
    else:  # an empty page: past the end (or no videos at all) says nothing about the count
        total = await _count(user_id, statuses) if page > 1 else 0
        last = max(1, -(-total // per_page))
        if clamp and page > last:
            page = last
            rows = await _page_rows(user_id, statuses, page, per_page)
            total = rows[0]["total_count"] if rows else await _count(user_id, statuses)
    items = [ListedVideo(**row) for row in rows]  # `total_count` comes along, unused
    return VideoPage(items=items, total=total, page=page, per_page=per_page, status=status)


async def find_video(user_id: int | None, video_id: int) -> Videos | None:
    """The video if it is `user_id`'s, else None."""
    if user_id is None:
        return None
    return await Videos.objects().where((Videos.id == video_id) & (Videos.user == user_id)).first()


async def group_videos(user_id: int, group_id: str) -> list[Videos]:
    """The user's variations of one request, in the order they were made (none for anyone else's group)."""
    if not group_id or len(group_id) > 36:
        return []
    return list(
        await Videos.objects().where((Videos.user == user_id) & (Videos.group_id == group_id)).order_by(Videos.id)
    )


async def batch_videos(user_id: int, batch_id: str) -> list[Videos]:
    """The videos of one of the user's batches, in request order (none for anyone else's batch)."""
    if not batch_id or len(batch_id) > 36:
        return []
    return list(
        await Videos.objects().where((Videos.user == user_id) & (Videos.batch_id == batch_id)).order_by(Videos.id)
    )


async def get_video(user_id: int | None, video_id: int) -> Videos:
    """One of the user's videos; 404 for anyone else's, with no hint that it exists."""
    video = await find_video(user_id, video_id)
    if video is None:
        raise NotFound("Video not found.", code="video_not_found")
    return video


async def events(video_id: int) -> list[VideoEvents]:
    return list(await VideoEvents.objects().where(VideoEvents.video == video_id).order_by(VideoEvents.id))


async def refunded_credits(video: Videos) -> int:
    """What the current charge got back (0 unless the latest attempt failed and was refunded)."""
    if video.status != VideoStatus.failed.value:
        return 0
    rows = await CreditTransactions.select(CreditTransactions.delta).where(
        (CreditTransactions.video == video.id)
        & (CreditTransactions.reason == LedgerReason.refund.value)
        & (CreditTransactions.charge_seq == video.charge_seq)
    )
    return sum(r["delta"] for r in rows)


async def reference_url(video: Videos) -> str | None:
    """Where the page can show the video's reference image (the owner's upload or a trial image)."""
    if video.reference_upload:
        row = await Uploads.select(Uploads.storage_key).where(Uploads.id == video.reference_upload).first()
        if row:
            return media_url(row["storage_key"])
    if video.reference_trial_image:
        row = (
            await TrialImages.select(TrialImages.image_url).where(TrialImages.id == video.reference_trial_image).first()
        )
        if row:
            return row["image_url"]
    return video.reference_image_url


def step_states(video: Videos, log: list[VideoEvents]) -> list[dict[str, str]]:
    """Each pipeline step with its state: done, current, failed or todo.

    The furthest step of the current attempt wins, not `video.step`, which is written after the event and
    can lag behind the log. A retry starts again at "queued", so earlier attempts' steps do not count.
    """
    starts = [i for i, event in enumerate(log) if event.step == "queued"]
    attempt = log[starts[-1] :] if starts else log
    reached = [STEPS.index(event.step) for event in attempt if event.step in STEPS]
    index = max([STEPS.index(video.step) if video.step in STEPS else 0, *reached])
    finished = video.status == VideoStatus.completed.value
    failed = video.status == VideoStatus.failed.value
    states = []
    for i, key in enumerate(STEPS):
        if finished or i < index:
            state = "done"
        elif i == index:
            state = "failed" if failed else "current"
        else:
            state = "todo"
        states.append({"key": key, "label": STEP_LABELS[key], "state": state})
    return states


def is_finished(video: Videos) -> bool:
    return video.status in FINISHED_STATUSES


def progress_context(video: Videos, log: list[VideoEvents], refunded: int) -> dict[str, Any]:
    """What the video partials render from: the page, its htmx fragments and the SSE stream alike."""
    return {
        "video": video,
        "events": log,
        "steps": step_states(video, log),
        "status_label": STATUS_LABELS.get(video.status, video.status),
        "finished": is_finished(video),
        "video_src": media_url(video.video_key) or video.video_url,
        "poster_src": media_url(video.poster_key) or video.poster_url,
        "refunded": refunded,
    }


async def video_context(video: Videos) -> dict[str, Any]:
    """The video page's context: `progress_context` read from the database, plus the reference image."""
    context = progress_context(video, await events(video.id), await refunded_credits(video))
    context["reference_src"] = await reference_url(video)
    return context


def card_context(video: Videos) -> dict[str, Any]:
    return {
        "video": video,
        "status_label": STATUS_LABELS.get(video.status, video.status),
        "poster_src": media_url(video.poster_key) or video.poster_url,
    }
