"""/api/v1/videos/{id}/events: a video's live progress as Server-Sent Events with JSON data."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from app.ops import observe
from app.videos import library, live
from app.web.auth import user_required
from app.web.live import json_message, parse_last_event_id, stream
from app.web.openapi import BEARER


class ApiVideoEventsController(Controller):
    path = "/api/v1/videos"
    tags = ["videos"]
    guards = [user_required]
    security = BEARER

    @get(
        "/{video_id:int}/events",
        name="api:videos-events",
        summary="Live progress (SSE)",
        description=(
            "`text/event-stream`. First the current state (or, with `Last-Event-ID`, only the steps after it), "
            "then an event `progress` per step and a final `done`; each `data` is a JSON object "
            "(video_id, event_id, step, message, status, progress, done, error_message, video_url, poster_url, "
            "credits_charged, credits_refunded, created_at). Comments keep the connection alive every 15 s."
        ),
    )
    async def video_events(self, request: Request, video_id: FromPath[int]) -> ServerSentEvent:
        await library.get_video(request.user.id if request.user else None, video_id)
        updates = live.video_updates(video_id, last_event_id=parse_last_event_id(request.headers.get("last-event-id")))
        return await stream(observe.counted_stream("api", updates), json_message, user_id=request.user.id)
