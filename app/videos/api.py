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
    image (`trial_image_id`), by id; the server never fetches a URL. `audio` asks a model that can for a
    soundtrack; `variations` (1-4) makes that many videos of the request, each its own job and charge."""

    prompt: str
    model: str = "sora-2"
    duration: int = 4
    resolution: str = "1280x720"
    reference_image_id: int | None = None
    trial_image_id: int | None = None
    audio: bool = False
    variations: int = 1

    def spec(self) -> videos_service.VideoSpec:
        return videos_service.VideoSpec(
            prompt=self.prompt, model=self.model, duration=self.duration, resolution=self.resolution,
            reference_image_id=self.reference_image_id, trial_image_id=self.trial_image_id, audio=self.audio,
            variations=self.variations,
        )


class BatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Up to 20 generate requests, checked as a whole before anything is charged."""

    items: list[GenerateRequest]


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
    audio: bool = False
    group_id: str | None = None
    batch_id: str | None = None


class GeneratedOut(VideoOut, kw_only=True):
    """The first video of the request, and every video it made (one per variation)."""

    variations: list[VideoOut]


class BatchOut(msgspec.Struct):
    id: str
    total: int
    counts: dict[str, int]
    credits_charged: int
    videos: list[VideoOut]


class VideoListOut(msgspec.Struct):
    items: list[VideoOut]
    total: int
    page: int
    per_page: int
    has_more: bool


class PriceOut(msgspec.Struct):
    duration: int
    credits: int


class PlacementOut(msgspec.Struct):
    ratio: str
    sizes: list[str]


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
    text_input: bool
    image_input: bool
    audio: bool
    placements: list[PlacementOut]
    plans: list[str]


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
        audio=bool(video.audio),
        group_id=video.group_id,
        batch_id=video.batch_id,
    )


def batch_out(batch_id: str, videos: list[Videos]) -> BatchOut:
    counts: dict[str, int] = {}
    for video in videos:
        counts[video.status] = counts.get(video.status, 0) + 1
    return BatchOut(id=batch_id, total=len(videos), counts=counts,
                    credits_charged=sum(v.credits_charged for v in videos), videos=[video_out(v) for v in videos])


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
                text_input=m.text_input,
                image_input=m.image_input,
                audio=m.audio,
                placements=[PlacementOut(ratio=r, sizes=sizes) for r, sizes in (m.sizes_by_ratio or {}).items()],
                plans=list(m.plans),
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
    ) -> GeneratedOut:
        """Checks the request, your plan and credits, charges the price and queues the job; 202 with the
        video (`pending`). With `variations` above 1 every video is charged and queued (all or none: not
        enough credits for all is a 402) and `variations` lists them. Send an `Idempotency-Key` header to make a retried request safe: the same key
        returns the video it already made, without a second charge."""
        videos, _ = await videos_service.create_videos(request.user, data.spec(), idempotency_key=idempotency_key)
        first = video_out(videos[0])
        return GeneratedOut(**{f: getattr(first, f) for f in first.__struct_fields__},
                            variations=[video_out(v) for v in videos])

    @post("/batch", name="api:videos-batch", status_code=202, guards=[user_required], security=BEARER,
          opt={RATE_LIMIT_OPT: "generate"}, responses=error_responses(401, 402, 403, 422, 429),
          summary="Start up to 20 generations at once (all checked first, then all charged)")
    async def batch(self, request: Request, data: JSONBody[BatchRequest]) -> BatchOut:
        """Every item is a generate request. The batch is checked as a whole first: one item that cannot be
        made refuses the batch (422 naming the item) and nothing is charged; not enough credits for all of
        them is a 402. Otherwise every video is charged and queued; 202 with the batch and its videos.
        Follow it with `GET /api/v1/batches/{id}`."""
        batch_id, videos = await videos_service.create_batch(request.user, [item.spec() for item in data.items])
        return batch_out(batch_id, videos)


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


class BatchesController(Controller):
    path = "/api/v1/batches"
    tags = ["videos"]

    @get("/{batch_id:str}", name="api:batches-get", guards=[user_required], security=BEARER,
         responses=error_responses(401, 404), summary="One of your batches: its videos and their states")
    async def get_batch(self, request: Request, batch_id: FromPath[str]) -> BatchOut:
        return batch_out(batch_id, await videos_service.get_batch(request.user.id, batch_id))
