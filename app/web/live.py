"""Live updates as Server-Sent Events: HTML fragments for htmx pages, JSON for API clients.

The partials are the ones the pages render at load time, so a swapped fragment and a reloaded
page look the same. Rendering happens outside a request: no `request`, no `csrf_input` (the retry
button is an htmx POST and gets its token from `<body hx-headers>`).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar.response import ServerSentEvent, ServerSentEventMessage

from app.limits import streams
from app.media.storage import media_url
from app.videos import library
from app.videos.live import Update
from app.web.input_guard import MAX_INT
from app.web.templating import render

# How long a browser waits before reconnecting after a dropped connection.
RETRY_MS = 2000


def parse_last_event_id(value: str | None) -> int | None:
    """The browser's `Last-Event-ID` on reconnect; anything unusable means "start from the current state"."""
    try:
        number = int(value) if value is not None and value.strip() else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number <= MAX_INT else None


def _context(update: Update) -> dict[str, Any]:
    return library.progress_context(update.video, update.events, update.refund)


def _bell(update: Update) -> str:
    """The header's bell with the current unread count, out of band ("" when the count is unknown)."""
    if update.unread is None:
        return ""
    return render("partials/notifications/_bell.html", unread=update.unread, oob=True)


class _EncodedOnce(ServerSentEventMessage):
    """A message every watcher of a step is sent: encoded for the first, the same bytes for the rest."""

    def encode(self) -> bytes:
        encoded = self.__dict__.get("_encoded")
        if encoded is None:
            encoded = self.__dict__["_encoded"] = super().encode()
        return encoded


def _keepalive() -> ServerSentEventMessage:
    # data=None: a bare comment; an empty data line would fire a `message` event in the browser.
    return ServerSentEventMessage(comment="keep-alive", data=None)


# The same step rendered once for every watcher of a video in this process, keyed by what it shows (and
# the ten-second window, so the log's "n seconds ago" never goes stale).
_rendered: dict[tuple, ServerSentEventMessage] = {}


def html_message(update: Update) -> ServerSentEventMessage:
    """`progress` carries the progress block; `done` the result, the final log and the header balance."""
    if update.kind == "keepalive":
        return _keepalive()
    video = update.video
    key = (
        update.kind,
        video.id,
        update.event_id,
        video.status,
        video.step,
        video.progress,
        update.refund,
        update.credits,
        update.unread,
        video.video_key,
        video.poster_key,
        int(time.monotonic() // 10),
    )
    message = _rendered.get(key)
    if message is None:
        message = _EncodedOnce(data=_render_html(update), event=update.kind, id=update.event_id, retry=RETRY_MS)
        if len(_rendered) > 1024:
            _rendered.clear()
        _rendered[key] = message
    return message


def _render_html(update: Update) -> str:
    context = _context(update)
    if update.kind == "done":
        data = render("partials/videos/_result.html", **context) + render("partials/videos/_progress.html", **context)
        if update.credits is not None:
            data += render("partials/_header_credits.html", credits=update.credits, oob=True)
        data += _bell(update)
        if update.video.status == "completed":
            # The share controls appear with the player (a fresh video is never shared yet).
            data += render("partials/sharing/_share_panel.html", video_id=update.video.id, shared=None, oob=True)
    else:
        data = render("partials/videos/_progress.html", **context)
    return data


def json_data(update: Update) -> dict[str, Any]:
    video, event = update.video, update.event
    return {
        "video_id": video.id,
        "event_id": update.event_id,
        "step": event.step if event else video.step,
        "message": event.message if event else "",
        "status": video.status,
        "progress": video.progress,
        "done": update.kind == "done",
        "error_message": video.error_message,
        "video_url": media_url(video.video_key) or video.video_url,
        "poster_url": media_url(video.poster_key) or video.poster_url,
        "credits_charged": video.credits_charged,
        "credits_refunded": update.refund,
        "created_at": event.created_at.isoformat() if event and event.created_at else None,
    }


# Streams of one video share the snapshot read for a step (app.videos.live), so their updates hold the very
# same row and event objects: by identity, one JSON message serves them all. The entry keeps those objects
# alive, so an id cannot be reused by a different row while it is cached.
_encoded_json: dict[tuple, tuple[Any, Any, ServerSentEventMessage]] = {}


def json_message(update: Update) -> ServerSentEventMessage:
    if update.kind == "keepalive":
        return _keepalive()
    video, event = update.video, update.event
    key = (update.kind, update.event_id, update.refund, id(video), id(event))
    cached = _encoded_json.get(key)
    if cached is not None and cached[0] is video and cached[1] is event:
        return cached[2]
    message = _EncodedOnce(data=json.dumps(json_data(update)), event=update.kind, id=update.event_id, retry=RETRY_MS)
    if len(_encoded_json) > 1024:
        _encoded_json.clear()
    _encoded_json[key] = (video, event, message)
    return message


def card_message(update: Update) -> ServerSentEventMessage:
    """A changed card of the list page (event `card`, swapped out of band by its id), or `idle`."""
    if update.kind == "keepalive":
        return _keepalive()
    if update.kind == "idle":
        return ServerSentEventMessage(data="idle", event="idle")  # an event with no data is never dispatched
    if update.kind == "bell":
        return ServerSentEventMessage(data=_bell(update) or " ", event="card", retry=RETRY_MS)
    card = render("partials/videos/_card.html", **library.card_context(update.video), oob=True) + _bell(update)
    return ServerSentEventMessage(data=card, event="card", retry=RETRY_MS)


async def stream(updates: AsyncIterator[Update], to_message, *, user_id: int) -> ServerSentEvent:
    """The SSE response; 429 `too_many_streams` when the user already holds their cap of open streams."""
    slot = await streams.acquire(user_id)

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        try:
            async for update in updates:
                if update.kind == "keepalive":
                    await slot.refresh()
                yield to_message(update)
        finally:
            await slot.release()

    return ServerSentEvent(messages(), headers={"Vary": "Cookie, Authorization"})
