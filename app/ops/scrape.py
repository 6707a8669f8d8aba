"""GET /metrics: the Prometheus text format, for a scraper (token-protected in production)."""

from __future__ import annotations

import hmac

from litestar import Controller, Request, Response, get

from app.config import get_settings
from app.errors import NotFound
from app.ops import metrics, queue


def _token_matches(request: Request, token: str) -> bool:
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


async def snapshot() -> list:
    """Gauges measured at scrape time: queue depth and the videos waiting to start."""
    depths = await queue.broker_depths()
    waiting, oldest = await queue.waiting_videos()
    return [
        metrics.gauge(
            "adsvideo_queue_messages",
            "Messages in the job queue (waiting, delayed or running).",
            {(name,): depth for name, depth in depths.items()},
            ["queue"],
        ),
        metrics.gauge("adsvideo_videos_waiting", "Videos created but not started by a worker yet.", {(): waiting}, []),
        metrics.gauge(
            "adsvideo_oldest_waiting_video_seconds", "Age of the oldest video not started yet.", {(): oldest}, []
        ),
    ]


class MetricsController(Controller):
    include_in_schema = False

    @get("/metrics", name="ops:metrics")
    async def metrics(self, request: Request) -> Response[bytes]:
        settings = get_settings()
        if not settings.metrics_token and settings.is_production:
            raise NotFound()  # off until a token is set: no hint that something is here
        if settings.metrics_token and not _token_matches(request, settings.metrics_token):
            return Response(
                b"Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`.\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body = metrics.render(await snapshot())
        return Response(body, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})
