"""/api/v1/videos: generate, list, read, retry and delete the caller's videos; the model list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from app.tables import Videos
from app.videos import service as videos_service
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses
from app.limits.rates import RATE_LIMIT_OPT


class GenerateRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What to make. The reference image is one of your uploads (`reference_image_id`) or a trial
    image (`trial_image_id`), by id; the server never fetches a URL."""

    prompt: str
    model: str = "sora-2"
    duration: int = 4
    resolution: str = "1280x720"
    reference_image_id: int | None = None
    trial_image_id: int | None = None


class VideoOut(msgspec.Struct):
    id: int
    prompt: str
    model: str
    provider: str
    status: str
    step: str
    progress: int
    duration: int
    resolution: str
    reference_image_url: str | None
    video_url: str | None
    poster_url: str | None
    error_message: str | None
    credits_charged: int
    attempts: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class VideoListOut(msgspec.Struct):
    items: list[VideoOut]
    total: int
    page: int
    per_page: int
    has_more: bool


class PriceOut(msgspec.Struct):
    duration: int
    credits: int


class ModelOut(msgspec.Struct):
    id: str
    provider: str
    name: str
    durations: list[int]
    sizes: list[str]
    prices: list[PriceOut]
    available: bool
    reason: str | None
    needs_reference_image: bool


def video_out(video: Videos) -> VideoOut:
    return VideoOut(
        id=video.id,
        prompt=video.prompt,
        model=video.model,
        provider=video.provider,
        status=video.status,
        step=video.step,
        progress=video.progress,
        duration=video.duration,
        resolution=video.resolution,
        reference_image_url=video.reference_image_url,
        video_url=video.video_url,
        poster_url=video.poster_url,
        error_message=video.error_message,
        credits_charged=video.credits_charged,
        attempts=video.attempts,
        created_at=video.created_at,
        updated_at=video.updated_at,
        completed_at=video.completed_at,
    )


class VideosController(Controller):
    path = "/api/v1/videos"
    tags = ["videos"]

    @get("/models/list", name="api:videos-models", summary="The models you can pick, with sizes, prices and availability")
    async def models(self) -> list[ModelOut]:
        return [
            ModelOut(
                id=m.id,
                provider=m.provider,
                name=m.name,
                durations=m.durations,
                sizes=m.sizes,
                prices=[PriceOut(duration=d, credits=c) for d, c in sorted(m.prices.items())],
                available=m.available,
                reason=m.reason,
                needs_reference_image=m.needs_reference_image,
            )
            for m in videos_service.list_models()
        ]

    @post("/generate", name="api:videos-generate", status_code=202, guards=[user_required], security=BEARER,
          opt={RATE_LIMIT_OPT: "generate"}, responses=error_responses(401, 402, 403, 422, 429),
          summary="Start generating a video (charges its price)")
    async def generate(
        self,
        request: Request,
        data: JSONBody[GenerateRequest],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", description="Repeat a request safely: the same key returns the same video.")] = None,
    ) -> VideoOut:
        """Checks the request, your plan and credits, charges the price and queues the job; 202 with the
        video (`pending`). Send an `Idempotency-Key` header to make a retried request safe: the same key
        returns the video it already made, without a second charge."""
        video, _ = await videos_service.create_video(
            request.user,
            prompt=data.prompt,
            model=data.model,
            duration=data.duration,
            resolution=data.resolution,
            reference_image_id=data.reference_image_id,
            trial_image_id=data.trial_image_id,
            idempotency_key=idempotency_key,
        )
        return video_out(video)

    @get("/", name="api:videos-list", guards=[user_required], security=BEARER, responses=error_responses(401, 422),
         summary="Your videos, newest first")
    async def list_videos(
        self,
        request: Request,
        page: FromQuery[int] = 1,
        per_page: FromQuery[int] = 20,
        status: FromQuery[str | None] = None,
    ) -> VideoListOut:
        result = await videos_service.list_videos(request.user.id, page=page, per_page=per_page, status=status)
        return VideoListOut(
            items=[video_out(v) for v in result.items],
            total=result.total,
            page=result.page,
            per_page=result.per_page,
            has_more=result.has_more,
        )

    @get("/{video_id:int}", name="api:videos-detail", guards=[user_required], security=BEARER, responses=error_responses(401, 404),
         summary="One of your videos")
    async def get_video(self, request: Request, video_id: FromPath[int]) -> VideoOut:
        return video_out(await videos_service.get_video(request.user.id, video_id))

    @delete("/{video_id:int}", name="api:videos-delete", status_code=204, guards=[user_required], security=BEARER,
            responses=error_responses(401, 404, 409),
            summary="Delete one of your videos and its files")
    async def delete_video(self, request: Request, video_id: FromPath[int]) -> None:
        """Deletes the video and its stored files. A video still queued (not yet sent to the provider)
        is stopped and its credits refunded, then deleted. Once the provider is generating it, the answer
        is 409 `video_generating`: the provider cannot cancel a running job, so delete it when it has
        finished (a failed one was already refunded)."""
        await videos_service.delete_video(request.user.id, video_id)

    @post("/{video_id:int}/retry", name="api:videos-retry", status_code=202, guards=[user_required], security=BEARER,
          opt={RATE_LIMIT_OPT: "generate"}, responses=error_responses(401, 402, 403, 404, 409, 422, 429),
          summary="Try a failed video again (charges its price again)")
    async def retry(self, request: Request, video_id: FromPath[int]) -> VideoOut:
        """Only a `failed` video can be retried (409 otherwise); the same plan and credit checks as a
        new video apply, and the price is charged again (the failed attempt was refunded)."""
        return video_out(await videos_service.retry_video(request.user, video_id))
