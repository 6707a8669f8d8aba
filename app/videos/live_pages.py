"""Live progress for pages (SSE): one video's stream, and one stream for the user's list of videos."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from app.ops import observe
from app.videos import live
from app.web.auth import user_required
from app.web.live import card_message, html_message, stream


def parse_last_event_id(value: str | None) -> int | None:
    """The browser's `Last-Event-ID` on reconnect; anything unusable means "start from the current state"."""
    try:
        return int(value) if value is not None and value.strip() else None
    except ValueError:
        return None


class VideoEventsController(Controller):
    path = "/videos"
    include_in_schema = False
    guards = [user_required]

    @get("/{video_id:int}/events", name="videos:events")
    async def video_events(
        self, request: Request, video_id: FromPath[int]
    ) -> ServerSentEvent:
        await live.owned_video(request.user, video_id)
        updates = live.video_updates(video_id, last_event_id=parse_last_event_id(request.headers.get("last-event-id")))
        return stream(observe.counted_stream("page", updates), html_message)

    @get("/events", name="videos:list-events")
    async def list_events(self, request: Request) -> ServerSentEvent:
        return stream(observe.counted_stream("page", live.user_updates(request.user.id)), card_message)
