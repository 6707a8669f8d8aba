"""/api/v1: the brand kit, music uploads, and finishing a video into ads (its renditions and their sets)."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_201_CREATED

from app.finishing import brand_kits, fonts, jobs, live, music_uploads
from app.finishing.schemas import (
    AudioOut,
    BrandIn,
    BrandOut,
    FinishingOut,
    FinishingSetOut,
    FinishRequest,
    FontOut,
    PlannedOut,
    RenditionOut,
)
from app.finishing.uploads import read_upload
from app.limits.rates import RATE_LIMIT_OPT
from app.media.storage import media_url
from app.tables import AudioUploads, Finishings, Renditions
from app.web.auth import user_required
from app.web.live import stream
from app.web.openapi import BEARER, error_responses


def brand_out(view: brand_kits.KitView) -> BrandOut:
    return BrandOut(
        name=view.name,
        primary_colour=view.primary_colour,
        accent_colour=view.accent_colour,
        font=view.font,
        logo_url=view.logo_url,
        cta_text=view.cta_text,
        cta_url=view.cta_url,
        fonts=[FontOut(f.id, f.label) for f in fonts.FONTS.values()],
    )


def audio_out(row: AudioUploads) -> AudioOut:
    return AudioOut(
        id=row.id,
        url=media_url(row.storage_key),
        duration=row.duration_ms / 1000,
        content_type=row.content_type,
        bytes=row.bytes,
    )


def rendition_out(row: Renditions, captions_key: str | None) -> RenditionOut:
    return RenditionOut(
        id=row.id,
        finishing_id=row.finishing,
        placement=row.placement,
        width=row.width,
        height=row.height,
        duration=row.duration_ms / 1000,
        url=media_url(row.video_key),
        poster=media_url(row.poster_key),
        captions_url=media_url(captions_key),
        created_at=row.created_at,
    )


def finishing_out(row: Finishings, planned: list[jobs.Planned]) -> FinishingOut:
    return FinishingOut(
        id=row.id,
        video_id=row.video,
        status=row.status,
        step=row.step,
        message=row.message,
        progress=row.progress,
        error_message=row.error_message,
        renditions=[PlannedOut(p.placement, p.width, p.height, p.duration) for p in planned],
        created_at=row.created_at,
    )


def set_out(found: jobs.FinishingSet) -> FinishingSetOut:
    row = found.finishing
    return FinishingSetOut(
        id=row.id,
        video_id=row.video,
        status=row.status,
        step=row.step,
        progress=row.progress,
        error_message=row.error_message,
        captions_url=media_url(row.captions_key),
        renditions=[rendition_out(r, row.captions_key) for r in found.renditions],
        created_at=row.created_at,
    )


class BrandApiController(Controller):
    path = "/api/v1/brand"
    tags = ["brand"]
    guards = [user_required]
    security = BEARER

    @get("/", name="api:brand", summary="Your brand kit (defaults until you save one)", responses=error_responses(401))
    async def read(self, request: Request) -> BrandOut:
        return brand_out(await brand_kits.get_kit(request.user.id))

    @put("/", name="api:brand-update", summary="Change your brand kit", responses=error_responses(401, 422))
    async def update(self, request: Request, data: JSONBody[BrandIn]) -> BrandOut:
        """Fields left out keep their value. `font` is one of the ids listed in `fonts`."""
        fields = {k: getattr(data, k) for k in BrandIn.__struct_fields__}
        return brand_out(await brand_kits.update_kit(request.user.id, **fields))

    @put(
        "/logo",
        name="api:brand-logo",
        opt={RATE_LIMIT_OPT: "upload"},
        summary="Upload your logo (PNG or WebP with transparency)",
        responses=error_responses(401, 413, 422),
    )
    async def logo(self, request: Request) -> BrandOut:
        """Multipart field `file`. Cropped to its visible pixels; a logo with none is refused."""
        data, _ = await read_upload(request)
        if data is None:
            from app.errors import ValidationFailed

            raise ValidationFailed("Choose a PNG or WebP logo to upload.", code="file_missing")
        return brand_out(await brand_kits.update_kit(request.user.id, logo=data))

    @delete(
        "/logo",
        name="api:brand-logo-delete",
        status_code=204,
        summary="Remove your logo",
        responses=error_responses(401),
    )
    async def remove_logo(self, request: Request) -> None:
        await brand_kits.update_kit(request.user.id, remove_logo=True)


class AudioUploadApiController(Controller):
    path = "/api/v1/upload"
    tags = ["upload"]

    @post(
        "/audio",
        guards=[user_required],
        security=BEARER,
        status_code=HTTP_201_CREATED,
        name="api:upload-audio",
        opt={RATE_LIMIT_OPT: "upload"},
        responses=error_responses(401, 413, 422),
        summary="Upload a music track for your ads",
    )
    async def upload_audio(self, request: Request) -> AudioOut:
        """MP3, WAV, M4A/AAC or OGG (multipart field `file`), decoded whole to prove it is audio.
        Answers the track's `id` (for `music_upload_id`) and its `duration` in seconds."""
        data, _ = await read_upload(request)
        return audio_out(await music_uploads.save(request.user.id, data))


class FinishApiController(Controller):
    path = "/api/v1/videos"
    tags = ["finishing"]
    guards = [user_required]
    security = BEARER

    @post(
        "/{video_id:int}/finish",
        name="api:finish",
        opt={RATE_LIMIT_OPT: "generate"},
        status_code=202,
        responses=error_responses(401, 404, 409, 422),
        summary="Finish a video into ads (no credits)",
    )
    async def finish(self, request: Request, video_id: FromPath[int], data: JSONBody[FinishRequest]) -> FinishingOut:
        """Checks everything against the clip (text that does not fit a frame, a trim outside the clip,
        a track that is not yours: 422, nothing stored), queues the job and answers 202 with the renditions
        it will make. Progress: `GET /api/v1/videos/{id}/finishings/{finishing_id}/events`."""
        row, planned = await jobs.request_finish(request.user, video_id, data.to_options(), data.music_upload_id)
        return finishing_out(row, planned)

    @get(
        "/{video_id:int}/finishings",
        name="api:finishings",
        summary="The video's finishing sets, newest first",
        responses=error_responses(401, 404),
    )
    async def sets(self, request: Request, video_id: FromPath[int]) -> list[FinishingSetOut]:
        await jobs.owned_video(request.user.id, video_id)
        return [set_out(s) for s in await jobs.sets_for_video(request.user.id, video_id)]

    @get(
        "/{video_id:int}/finishings/{finishing_id:int}",
        name="api:finishing",
        summary="One finishing set",
        responses=error_responses(401, 404),
    )
    async def one_set(self, request: Request, video_id: FromPath[int], finishing_id: FromPath[int]) -> FinishingSetOut:
        return set_out(await jobs.get_set(request.user.id, video_id, finishing_id))

    @delete(
        "/{video_id:int}/finishings/{finishing_id:int}",
        name="api:finishing-delete",
        status_code=204,
        summary="Delete a finishing set and its renditions",
        responses=error_responses(401, 404, 409),
    )
    async def delete_set(self, request: Request, video_id: FromPath[int], finishing_id: FromPath[int]) -> None:
        await jobs.delete_set(request.user.id, video_id, finishing_id)

    @get(
        "/{video_id:int}/finishings/{finishing_id:int}/events",
        name="api:finishing-events",
        summary="Live progress of a finishing (SSE)",
        responses=error_responses(401, 404),
    )
    async def events(self, request: Request, video_id: FromPath[int], finishing_id: FromPath[int]) -> ServerSentEvent:
        """`text/event-stream`: the current state, an event `progress` per step (one per rendition, with its
        share done), then `done`. Each `data` is JSON (finishing_id, video_id, status, step, message, progress,
        error_message)."""
        await jobs.get_set(request.user.id, video_id, finishing_id)
        return stream(live.finishing_updates(finishing_id), live.json_message)
