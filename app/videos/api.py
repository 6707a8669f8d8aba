"""/api/v1/videos: generate, list, read, retry and delete the caller's videos; the model list."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from app.finishing import jobs as finishing_jobs
from app.limits.rates import RATE_LIMIT_OPT
from app.videos import library
from app.videos import service as videos_service
from app.videos.schemas import (
    GenerateRequest,
    ModelOut,
    VideoListOut,
    VideoOut,
    model_out,
    video_out,
)
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses


class VideosController(Controller):
    path = "/api/v1/videos"
    tags = ["videos"]

    @get("/models/list", name="api:videos-models", summary="The models you can pick, with sizes, prices and availability")
    async def models(self) -> list[ModelOut]:
        return [model_out(m) for m in videos_service.list_models()]

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
        returns the video it already made, without a second charge. With `finish`, the video is finished
        into ads once it is made (checked now: a 422 here charges nothing)."""
        finish = data.finish.to_options() if data.finish else None
        if finish is not None:
            await finishing_jobs.check_for_generation(request.user.id, finish, data.finish.music_upload_id,
                                                      data.duration, data.resolution)
        video, created = await videos_service.create_video(
            request.user,
            prompt=data.prompt,
            model=data.model,
            duration=data.duration,
            resolution=data.resolution,
            reference_image_id=data.reference_image_id,
            trial_image_id=data.trial_image_id,
            idempotency_key=idempotency_key,
        )
        if finish is not None and created:
            await finishing_jobs.add_waiting(video, finish, data.finish.music_upload_id)
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
            has_more=result.has_next,
        )

    @get("/{video_id:int}", name="api:videos-detail", guards=[user_required], security=BEARER, responses=error_responses(401, 404),
         summary="One of your videos")
    async def get_video(self, request: Request, video_id: FromPath[int]) -> VideoOut:
        """The video, with `renditions`: the ads finished from it (placement, size, duration, url, poster)."""
        from app.finishing.api import rendition_out

        video = await library.get_video(request.user.id, video_id)
        renditions = [rendition_out(r, captions) for r, captions in await finishing_jobs.renditions_for_video(video.id)]
        return video_out(video, renditions)

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
