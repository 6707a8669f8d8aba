"""Live progress streams: the database state first, then each published step, until the video is done.

Independent of HTTP: the generators yield `Update`s; the web layer renders them as SSE messages
(HTML fragments for pages, JSON for the API). The database is the source of truth, so a stream
reads it only on connect, when an event for its video is published, and after a relay resync —
never on a timer. Subscribing happens before the first read, so nothing published in between is lost.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.errors import NotFound
from app.tables import (
    CreditTransactions,
    LedgerReason,
    Users,
    VideoEvents,
    Videos,
    VideoStatus,
)
from app.videos import progress

KEEPALIVE_SECONDS = 15.0
STEPS = ("queued", "preparing", "submitting", "waiting", "generating", "downloading", "completed")
TERMINAL = (VideoStatus.completed.value, VideoStatus.failed.value)
IN_FLIGHT = (VideoStatus.pending.value, VideoStatus.processing.value)


@dataclass
class Update:
    """One thing to tell a watcher.

    kind: "progress" (a step; `event_id` is its video_events id), "done" (the final state),
    "card" (a video of the user's list changed), "idle" (no video of the user's list is in flight
    any more), or "keepalive" (nothing happened for a while).
    """

    kind: str
    event_id: int | None = None
    video: Any = None
    events: list[VideoEvents] = field(default_factory=list)
    refund: int = 0
    credits: int | None = None

    @property
    def event(self) -> VideoEvents | None:
        """The step this update is about (the last of the log)."""
        return self.events[-1] if self.events else None


KEEPALIVE = Update("keepalive")


def is_terminal(video: Any) -> bool:
    return video.status in TERMINAL


async def owned_video(user: Any, video_id: int) -> Videos:
    """The user's video, or NotFound (also for another user's video: its existence is not revealed)."""
    video = None
    if user is not None:
        video = await Videos.objects().where((Videos.id == video_id) & (Videos.user == user.id)).first()
    if video is None:
        raise NotFound("Video not found.", code="video_not_found")
    return video


async def _load(video_id: int) -> tuple[Videos | None, list[VideoEvents]]:
    video = await Videos.objects().where(Videos.id == video_id).first()
    events = await VideoEvents.objects().where(VideoEvents.video == video_id).order_by(VideoEvents.id)
    return video, list(events)


async def _final(video: Videos, events: list[VideoEvents]) -> Update:
    """The `done` update: the final row, the refund for this charge (if any) and the owner's balance."""
    refund = 0
    if video.status == VideoStatus.failed.value:
        rows = await CreditTransactions.select(CreditTransactions.delta).where(
            (CreditTransactions.video == video.id)
            & (CreditTransactions.reason == LedgerReason.refund.value)
            & (CreditTransactions.charge_seq == video.charge_seq)
        )
        refund = sum(row["delta"] for row in rows)
    owner = await Users.select(Users.credits).where(Users.id == video.user).first()
    last = events[-1].id if events else None
    return Update("done", last, video, events, refund=refund, credits=owner["credits"] if owner else None)


def _as_of(video: Videos, events: list[VideoEvents]) -> Videos:
    """The video as it was when the last of `events` happened (replayed steps show their own moment)."""
    event = events[-1]
    past = copy.copy(video)
    past.step, past.progress = event.step, event.progress
    if event.step == "queued":
        past.status = VideoStatus.pending.value
    elif event.step not in TERMINAL:
        past.status = VideoStatus.processing.value
    return past


async def _since(video: Videos, events: list[VideoEvents], after: int) -> list[Update]:
    """One update per step after event id `after`; the last one is `done` when the video has finished."""
    updates = []
    for index, event in enumerate(events):
        if event.id <= after:
            continue
        upto = events[: index + 1]
        last = index == len(events) - 1
        if last and is_terminal(video):
            updates.append(await _final(video, upto))
        else:
            updates.append(Update("progress", event.id, video if last else _as_of(video, upto), upto))
    if not updates and is_terminal(video):
        updates.append(await _final(video, events))  # a finished video always ends with `done`
    return updates


async def video_updates(
    video_id: int, *, last_event_id: int | None = None, keepalive: float = KEEPALIVE_SECONDS
) -> AsyncIterator[Update]:
    """Updates for one video (check ownership first with `owned_video`).

    Without `last_event_id`: the current state at once, as one update. With it: only the steps
    after it. Then each new step, a keep-alive when idle, and the end after `done`.
    """
    async with progress.subscribe([progress.video_channel(video_id)]) as subscription:
        video, events = await _load(video_id)
        if video is None:
            return
        if last_event_id is None:
            first = await _final(video, events) if is_terminal(video) else Update(
                "progress", events[-1].id if events else None, video, events
            )
            batch = [first]
        else:
            batch = await _since(video, events, last_event_id)
        sent = last_event_id or 0
        while True:
            for update in batch:
                yield update
                sent = max(sent, update.event_id or 0)
                if update.kind == "done":
                    return
            message = await subscription.get(timeout=keepalive)
            if message is None:
                batch = [KEEPALIVE]
                continue
            if message is progress.CLOSING:
                return  # this process is stopping: the client reconnects (with Last-Event-ID) to another
            if message is not progress.RESYNC and (message.get("event_id") or 0) <= sent and not message.get("done"):
                batch = []  # already sent (it arrived while we were replaying from the database)
                continue
            video, events = await _load(video_id)
            if video is None:  # deleted while watched
                return
            batch = await _since(video, events, sent)


async def in_flight_ids(user_id: int) -> list[int]:
    rows = await Videos.select(Videos.id).where((Videos.user == user_id) & Videos.status.is_in(list(IN_FLIGHT)))
    return [row["id"] for row in rows]


async def user_updates(user_id: int, *, keepalive: float = KEEPALIVE_SECONDS) -> AsyncIterator[Update]:
    """Card updates for the user's in-flight videos (one stream for the whole list page).

    First the current card of each in-flight video, then a card whenever one of them changes;
    "idle" and the end once none is in flight.
    """
    async with progress.subscribe([progress.user_channel(user_id)]) as subscription:
        watching = set(await in_flight_ids(user_id))
        changed = set(watching)
        while True:
            if changed:
                videos = await Videos.objects().where(
                    (Videos.user == user_id) & Videos.id.is_in(sorted(changed))
                ).order_by(Videos.id)
                for video in videos:
                    yield Update("card", video=video)
                    if is_terminal(video):
                        watching.discard(video.id)
                watching -= changed - {video.id for video in videos}  # deleted ones are gone
            if not watching:
                yield Update("idle")
                return
            message = await subscription.get(timeout=keepalive)
            if message is progress.CLOSING:
                return  # this process is stopping: the page reconnects to another
            if message is None:
                changed = set()
                yield KEEPALIVE
            elif message is progress.RESYNC:
                changed = watching | set(await in_flight_ids(user_id))
                watching = set(changed)
            else:
                video_id = message.get("video_id")
                changed = {video_id} if isinstance(video_id, int) else set()
                watching |= changed
