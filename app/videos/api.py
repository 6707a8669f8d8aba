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
    BatchOut,
    BatchRequest,
    GeneratedOut,
    GenerateRequest,
    ModelOut,
    VideoListOut,
    VideoOut,
    batch_out,
    generated_out,
    model_out,
    video_out,
)
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses
from app.web.params import PageNumber, PerPage


class VideosController(Controller):
    path = "/api/v1/videos"
    tags = ["videos"]

    @get(
        "/models/list", name="api:videos-models", summary="The models you can pick, with sizes, prices and availability"
    )
    async def models(self) -> list[ModelOut]:
        return [model_out(m) for m in videos_service.list_models()]

    @post(
        "/generate",
        name="api:videos-generate",
        status_code=202,
        guards=[user_required],
        security=BEARER,
        opt={RATE_LIMIT_OPT: "generate"},
        responses=error_responses(401, 402, 403, 422, 429),
        summary="Start generating a video (charges its price)",
    )
    async def generate(
        self,
        request: Request,
        data: JSONBody[GenerateRequest],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key", description="Repeat a request safely: the same key returns the same video."
            ),
        ] = None,
    ) -> GeneratedOut:
        """Checks the request, your plan and credits, charges the price and queues the job; 202 with the
        video (`pending`). With `variations` above 1 every video is charged and queued (all or none: not
        enough credits for all is a 402) and `variations` lists them. Send an `Idempotency-Key` header to
        make a retried request safe: the same key returns the videos it already made, without a second
        charge. With `finish`, each video is finished into ads once it is made (checked now: a 422 here
        charges nothing)."""
        finish = data.finish.to_options() if data.finish else None
        if finish is not None:
            await finishing_jobs.check_for_generation(
                request.user.id, finish, data.finish.music_upload_id, data.duration, data.resolution
            )
        videos, created = await videos_service.create_videos(request.user, data.spec(), idempotency_key=idempotency_key)
        if finish is not None and created:
            for video in videos:
                await finishing_jobs.add_waiting(video, finish, data.finish.music_upload_id)
        return generated_out(videos)

    @post(
        "/batch",
        name="api:videos-batch",
        status_code=202,
        guards=[user_required],
        security=BEARER,
        opt={RATE_LIMIT_OPT: "generate"},
        responses=error_responses(401, 402, 403, 422, 429),
        summary="Start up to 20 generations at once (all checked first, then all charged)",
    )
    async def batch(self, request: Request, data: JSONBody[BatchRequest]) -> BatchOut:
        """Every item is a generate request (with `variations`, `audio` and `finish` as there). The batch is
        checked as a whole first: one item that cannot be made refuses the batch (422 naming the item) and
        nothing is charged; not enough credits for all of them is a 402. Otherwise every video is charged and
        queued; 202 with the batch and its videos. Follow it with `GET /api/v1/batches/{id}`."""
        finishes = []
        for number, item in enumerate(data.items, start=1):
            finish = item.finish.to_options() if item.finish else None
            if finish is not None:
                await videos_service.numbered(
                    number,
                    finishing_jobs.check_for_generation(
                        request.user.id, finish, item.finish.music_upload_id, item.duration, item.resolution
                    ),
                )
            finishes.append(finish)
        batch_id, videos = await videos_service.create_batch(request.user, [item.spec() for item in data.items])
        by_request = iter(videos)
        for item, finish in zip(data.items, finishes, strict=True):
            made = [next(by_request) for _ in range(item.variations)]
            if finish is not None:
                for video in made:
                    await finishing_jobs.add_waiting(video, finish, item.finish.music_upload_id)
        return batch_out(batch_id, videos)

    @get(
        "/",
        name="api:videos-list",
        guards=[user_required],
        security=BEARER,
        responses=error_responses(401, 422),
        summary="Your videos, newest first",
    )
    async def list_videos(
        self,
        request: Request,
        page: FromQuery[PageNumber] = 1,
        per_page: FromQuery[PerPage] = 20,
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

    @get(
        "/{video_id:int}",
        name="api:videos-detail",
        guards=[user_required],
        security=BEARER,
        responses=error_responses(401, 404),
        summary="One of your videos",
    )
    async def get_video(self, request: Request, video_id: FromPath[int]) -> VideoOut:
        """The video, with `renditions`: the ads finished from it (placement, size, duration, url, poster)."""
        from app.finishing.api import rendition_out

        video = await library.get_video(request.user.id, video_id)
        renditions = [rendition_out(r, captions) for r, captions in await finishing_jobs.renditions_for_video(video.id)]
        return video_out(video, renditions)

    @delete(
        "/{video_id:int}",
        name="api:videos-delete",
        status_code=204,
        guards=[user_required],
        security=BEARER,
        responses=error_responses(401, 404, 409),
        summary="Delete one of your videos and its files",
    )
    async def delete_video(self, request: Request, video_id: FromPath[int]) -> None:
        """Deletes the video and its stored files. A video still queued (not yet sent to the provider)
        is stopped and its credits refunded, then deleted. Once the provider is generating it, the answer
        is 409 `video_generating`: the provider cannot cancel a running job, so delete it when it has
        finished (a failed one was already refunded)."""
        await videos_service.delete_video(request.user.id, video_id)

    @post(
        "/{video_id:int}/retry",
        name="api:videos-retry",
        status_code=202,
        guards=[user_required],
        security=BEARER,
        opt={RATE_LIMIT_OPT: "generate"},
        responses=error_responses(401, 402, 403, 404, 409, 422, 429),
        summary="Try a failed video again (charges its price again)",
    )
    async def retry(self, request: Request, video_id: FromPath[int]) -> VideoOut:
        """Only a `failed` video can be retried (409 otherwise); the same plan and credit checks as a
        new video apply, and the price is charged again (the failed attempt was refunded)."""
        return video_out(await videos_service.retry_video(request.user, video_id))


class BatchesController(Controller):
    path = "/api/v1/batches"
    tags = ["videos"]

    @get(
        "/{batch_id:str}",
        name="api:batches-get",
        guards=[user_required],
        security=BEARER,
        responses=error_responses(401, 404),
        summary="One of your batches: its videos and their states",
    )
    async def get_batch(self, request: Request, batch_id: FromPath[str]) -> BatchOut:
        return batch_out(batch_id, await videos_service.get_batch(request.user.id, batch_id))
