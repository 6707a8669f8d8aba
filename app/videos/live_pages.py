"""Live progress for pages (SSE): one video's stream, and one stream for the user's list of videos."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from app.ops import observe
from app.videos import library, live
from app.web.auth import user_required
from app.web.live import card_message, html_message, parse_last_event_id, stream


class VideoEventsController(Controller):
    path = "/videos"
    include_in_schema = False
    guards = [user_required]

    @get("/{video_id:int}/events", name="videos:events")
    async def video_events(self, request: Request, video_id: FromPath[int]) -> ServerSentEvent:
        await library.get_video(request.user.id if request.user else None, video_id)
        updates = live.video_updates(video_id, last_event_id=parse_last_event_id(request.headers.get("last-event-id")))
        return await stream(observe.counted_stream("page", updates), html_message, user_id=request.user.id)

    @get("/events", name="videos:list-events")
    async def list_events(self, request: Request) -> ServerSentEvent:
        return await stream(
            observe.counted_stream("page", live.user_updates(request.user.id)), card_message, user_id=request.user.id
        )
