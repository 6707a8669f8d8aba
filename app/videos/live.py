"""Live progress streams: the database state first, then each published step, until the video is done.

Independent of HTTP: the generators yield `Update`s; the web layer renders them as SSE messages
(HTML fragments for pages, JSON for the API). The database is the source of truth, so a stream
reads it only on connect, when an event for its video is published, and after a relay resync —
never on a timer. Subscribing happens before the first read, so nothing published in between is lost.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.tables import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    Users,
    VideoEvents,
    Videos,
    VideoStatus,
)
from app.videos import library, progress

KEEPALIVE_SECONDS = 15.0


@dataclass
class Update:
    """One thing to tell a watcher.

    kind: "progress" (a step; `event_id` is its video_events id), "done" (the final state),
    "card" (a video of the user's list changed), "bell" (the unread notification count changed),
    "idle" (no video of the user's list is in flight any more), or "keepalive" (nothing happened for a while).
    `unread`, when known, is the owner's unread notification count (the header's bell).
    """

    kind: str
    event_id: int | None = None
    video: Any = None
    events: list[VideoEvents] = field(default_factory=list)
    refund: int = 0
    credits: int | None = None
    unread: int | None = None

    @property
    def event(self) -> VideoEvents | None:
        """The step this update is about (the last of the log)."""
        return self.events[-1] if self.events else None


KEEPALIVE = Update("keepalive")


def is_terminal(video: Any) -> bool:
    return video.status in FINISHED_STATUSES


@dataclass
class _Snapshot:
    """A video as the database has it: the row, its log, and for a finished one the refund and the balance."""

    video: Videos | None
    events: list[VideoEvents]
    refund: int = 0
    credits: int | None = None
    unread: int | None = None


async def _snapshot(video_id: int) -> _Snapshot:
    video = await Videos.objects().where(Videos.id == video_id).first()
    events = await VideoEvents.objects().where(VideoEvents.video == video_id).order_by(VideoEvents.id)
    snapshot = _Snapshot(video, list(events))
    if video is not None and is_terminal(video):
        snapshot.refund = await library.refunded_credits(video)
        owner = await Users.select(Users.credits, Users.unread_notifications).where(Users.id == video.user).first()
        if owner:
            snapshot.credits, snapshot.unread = owner["credits"], owner["unread_notifications"]
    return snapshot


# Every stream of a video in this process reads the database once per published event, not once each:
# the first stream to handle event N starts the read, the others await the same task.
SHARED_SECONDS = 10.0
_shared: dict[tuple[int, int], asyncio.Task] = {}


async def _shared_snapshot(video_id: int, event_id: int | None) -> _Snapshot:
    if not event_id:
        return await _snapshot(video_id)
    key = (video_id, event_id)
    loop = asyncio.get_running_loop()
    task = _shared.get(key)
    if task is None or task.get_loop() is not loop:
        task = loop.create_task(_snapshot(video_id))
        _shared[key] = task
        loop.call_later(SHARED_SECONDS, lambda: _shared.pop(key, None) if _shared.get(key) is task else None)
    return await task


def _final(snapshot: _Snapshot, events: list[VideoEvents]) -> Update:
    """The `done` update: the final row, the refund for this charge (if any) and the owner's balance."""
    last = events[-1].id if events else None
    return Update(
        "done", last, snapshot.video, events, refund=snapshot.refund, credits=snapshot.credits, unread=snapshot.unread
    )


def _as_of(video: Videos, events: list[VideoEvents]) -> Videos:
    """The video as it was when the last of `events` happened (replayed steps show their own moment)."""
    event = events[-1]
    past = copy.copy(video)
    past.step, past.progress = event.step, event.progress
    if event.step == "queued":
        past.status = VideoStatus.pending.value
    elif event.step not in FINISHED_STATUSES:
        past.status = VideoStatus.processing.value
    return past


def _since(snapshot: _Snapshot, after: int) -> list[Update]:
    """One update per step after event id `after`; the last one is `done` when the video has finished."""
    video, events = snapshot.video, snapshot.events
    updates = []
    for index, event in enumerate(events):
        if event.id <= after:
            continue
        upto = events[: index + 1]
        last = index == len(events) - 1
        if last and is_terminal(video):
            updates.append(_final(snapshot, upto))
        else:
            updates.append(Update("progress", event.id, video if last else _as_of(video, upto), upto))
    if not updates and is_terminal(video):
        updates.append(_final(snapshot, events))  # a finished video always ends with `done`
    return updates


async def video_updates(
    video_id: int, *, last_event_id: int | None = None, keepalive: float = KEEPALIVE_SECONDS
) -> AsyncIterator[Update]:
    """Updates for one video (check ownership first with `library.get_video`).

    Without `last_event_id`: the current state at once, as one update. With it: only the steps
    after it. Then each new step, a keep-alive when idle, and the end after `done`.
    """
    async with progress.subscribe([progress.video_channel(video_id)]) as subscription:
        snapshot = await _snapshot(video_id)
        video, events = snapshot.video, snapshot.events
        if video is None:
            return
        if last_event_id is None:
            first = (
                _final(snapshot, events)
                if is_terminal(video)
                else Update("progress", events[-1].id if events else None, video, events)
            )
            batch = [first]
        else:
            batch = _since(snapshot, last_event_id)
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
            snapshot = await _shared_snapshot(video_id, None if message is progress.RESYNC else message.get("event_id"))
            if snapshot.video is None:  # deleted while watched
                return
            batch = _since(snapshot, sent)


async def _unread(user_id: int) -> int | None:
    row = await Users.select(Users.unread_notifications).where(Users.id == user_id).first()
    return row["unread_notifications"] if row else None


async def in_flight_ids(user_id: int) -> list[int]:
    rows = await Videos.select(Videos.id).where((Videos.user == user_id) & Videos.status.is_in(list(ACTIVE_STATUSES)))
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
                videos = (
                    await Videos.objects()
                    .where((Videos.user == user_id) & Videos.id.is_in(sorted(changed)))
                    .order_by(Videos.id)
                )
                for video in videos:
                    unread = await _unread(user_id) if is_terminal(video) else None
                    yield Update("card", video=video, unread=unread)
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
            elif message.get("type") == "notification":
                changed = set()
                yield Update("bell", unread=message.get("unread"))
            else:
                video_id = message.get("video_id")
                changed = {video_id} if isinstance(video_id, int) else set()
                watching |= changed
