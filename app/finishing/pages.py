"""Pages: the brand kit (/account/brand) with its live end-card preview, and the video page's
"Make it an ad" panel — live preview, finishing, the sets of renditions with their live progress."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import (
    Redirect,
    ServerSentEvent,
    ServerSentEventMessage,
    Template,
)

from app.errors import ValidationFailed
from app.finishing import brand_kits, fonts, forms, jobs, live, music_uploads, preview
from app.finishing.options import PLACEMENTS, EndCard, FinishOptions
from app.finishing.uploads import read_upload
from app.limits.rates import RATE_LIMIT_OPT
from app.media.cpu import run_cpu
from app.media.storage import get_storage, media_url
from app.web.auth import user_required
from app.web.templating import render, url_for

BRAND_FORM = "partials/finishing/_brand_form.html"
PANEL = "partials/finishing/_panel.html"
SETS = "partials/finishing/_sets.html"


def _jpeg(image) -> Response:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=82)
    return Response(out.getvalue(), media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


async def _preview_brand(user_id: int, values: dict) -> brand_kits.Brand:
    """The stored kit with the (valid) values being edited laid over it."""
    view = await brand_kits.get_kit(user_id)
    fields = {}
    for key, value in values.items():
        try:
            fields.update(brand_kits.clean_fields(**{key: value}))
        except ValidationFailed:
            pass
    merged = brand_kits.KitView(**{**view.__dict__, **fields})
    return brand_kits.to_brand(merged, await brand_kits.logo_image(user_id))


def set_context(found: jobs.FinishingSet, video_id: int) -> dict:
    row = found.finishing
    return {
        "fin": row,
        "video_id": video_id,
        "renditions": [
            {
                "row": r,
                "src": media_url(r.video_key),
                "poster": media_url(r.poster_key),
                "duration": r.duration_ms / 1000,
            }
            for r in found.renditions
        ],
        "captions_src": media_url(row.captions_key),
        "in_flight": row.status in jobs.IN_FLIGHT,
    }


async def _sets(user_id: int, video_id: int) -> list[dict]:
    return [set_context(s, video_id) for s in await jobs.sets_for_video(user_id, video_id)]


class BrandPagesController(Controller):
    path = "/account/brand"
    include_in_schema = False
    guards = [user_required]

    async def _context(
        self, user_id: int, form: dict | None = None, error: str | None = None, saved: bool = False
    ) -> dict:
        kit = await brand_kits.get_kit(user_id)
        values = form or {k: getattr(kit, k) for k in forms.BRAND_FIELDS}
        return {
            "kit": kit,
            "form": values,
            "fonts": fonts.FONTS.values(),
            "error": error,
            "saved": saved,
            "preview_src": _route("finishing:brand-preview") + "?" + urlencode(values),
        }

    @get("/", name="finishing:brand")
    async def page(self, request: Request) -> Template:
        return Template("pages/finishing/brand.html", context=await self._context(request.user.id))

    @post("/", name="finishing:brand-save", opt={RATE_LIMIT_OPT: "upload"}, status_code=200)
    async def save(self, request: Request) -> Response:
        logo, fields = await read_upload(request, "logo")
        values = forms.brand_values(fields)
        htmx = bool(request.headers.get("hx-request"))
        try:
            await brand_kits.update_kit(
                request.user.id, logo=logo, remove_logo=fields.get("remove_logo") == "on", **values
            )
        except ValidationFailed as exc:
            context = await self._context(request.user.id, values, exc.detail)
            return Template(BRAND_FORM if htmx else "pages/finishing/brand.html", context=context, status_code=422)
        if not htmx:
            return Redirect(_route("finishing:brand"), status_code=303)
        return Template(BRAND_FORM, context=await self._context(request.user.id, saved=True))

    @get("/preview", name="finishing:brand-preview-frame")
    async def preview_fragment(self, request: Request) -> Template:
        """The preview image for the values being typed (htmx swaps it in as the form changes)."""
        values = forms.brand_values(request.query_params)
        return Template(
            "partials/finishing/_brand_preview.html",
            context={"preview_src": _route("finishing:brand-preview") + "?" + urlencode(values)},
        )

    @get("/preview.jpg", name="finishing:brand-preview")
    async def preview_image(self, request: Request) -> Response:
        brand = await _preview_brand(request.user.id, forms.brand_values(request.query_params))
        placement = request.query_params.get("placement") or "9:16"
        try:
            image = await run_cpu(
                preview.preview_card, brand, EndCard(), placement if placement in PLACEMENTS else "9:16", 540
            )
        except ValidationFailed:
            image = await run_cpu(preview.preview_card, brand_kits.DEFAULT, EndCard(), "9:16", 540)
        return _jpeg(image)


class FinishingPagesController(Controller):
    path = "/videos"
    include_in_schema = False
    guards = [user_required]

    async def _panel(
        self, request: Request, video_id: int, values: dict | None = None, error: str | None = None
    ) -> dict:
        video = await jobs.owned_video(request.user.id, video_id)
        kit = await brand_kits.get_kit(request.user.id)
        values = values or {
            "hook_text": "",
            "hook_position": "top",
            "hook_size": "medium",
            "captions": "",
            "cta_text": kit.cta_text,
            "cta_url": kit.cta_url,
            "end_seconds": "2",
            "trim_start": "",
            "trim_end": "",
            "fit": "auto",
            "music_upload_id": "",
            "end_card": "on",
            "placements": list(PLACEMENTS),
        }
        return {
            "video": video,
            "video_id": video_id,
            "kit": kit,
            "values": values,
            "error": error,
            "tracks": await music_uploads.list_for_user(request.user.id),
            "placements": list(PLACEMENTS),
            "sets": await _sets(request.user.id, video_id),
            "preview": _preview_links(video_id, values),
        }

    @get("/{video_id:int}/finish", name="finishing:panel")
    async def panel(self, request: Request, video_id: FromPath[int]) -> Template:
        return Template(PANEL, context=await self._panel(request, video_id))

    @get("/{video_id:int}/finish/preview", name="finishing:preview")
    async def preview_fragment(self, request: Request, video_id: FromPath[int]) -> Template:
        """The preview images for the panel's current values, or why they cannot be made."""
        await jobs.owned_video(request.user.id, video_id)
        values = forms.panel_values(request.query_params)
        error = None
        try:
            options, _ = forms.options_from_form(request.query_params)
            brand = await brand_kits.engine_brand(request.user.id)
            video = await jobs.owned_video(request.user.id, video_id)
            clip = await run_cpu(jobs.probe_stored, video.video_key)
            await run_cpu(jobs.engine.plan, options, brand, clip)
        except ValidationFailed as exc:
            error = exc.detail
        return Template(
            "partials/finishing/_preview.html", context={"preview": _preview_links(video_id, values), "error": error}
        )

    @get("/{video_id:int}/finish/frame.jpg", name="finishing:preview-frame")
    async def frame(self, request: Request, video_id: FromPath[int]) -> Response:
        video = await jobs.owned_video(request.user.id, video_id)
        brand = await brand_kits.engine_brand(request.user.id)
        try:
            options, _ = forms.options_from_form(request.query_params)
        except ValidationFailed:
            options = FinishOptions(placements=("9:16",))

        def draw():
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory() as tmp:
                clip = Path(tmp) / "clip.mp4"
                get_storage().download_file(video.video_key, clip)
                info = jobs.engine.probe_clip(clip)
                try:
                    return preview.preview_frame(clip, info, options, brand)
                except ValidationFailed:
                    return preview.preview_frame(clip, info, FinishOptions(placements=options.placements[:1]), brand)

        return _jpeg(await run_cpu(draw))

    @get("/{video_id:int}/finish/card.jpg", name="finishing:preview-card")
    async def card(self, request: Request, video_id: FromPath[int]) -> Response:
        await jobs.owned_video(request.user.id, video_id)
        brand = await brand_kits.engine_brand(request.user.id)
        query = request.query_params
        placement = (forms.panel_values(query)["placements"] or ["9:16"])[0]
        card = EndCard(text=str(query.get("cta_text") or ""), url=str(query.get("cta_url") or ""))
        try:
            image = await run_cpu(preview.preview_card, brand, card, placement, 540)
        except ValidationFailed:
            image = await run_cpu(preview.preview_card, brand, EndCard(), placement, 540)
        return _jpeg(image)

    @post("/{video_id:int}/finish", name="finishing:start", opt={RATE_LIMIT_OPT: "generate"}, status_code=200)
    async def start(self, request: Request, video_id: FromPath[int]) -> Response:
        """Finish with the panel's values (a music file may come along); the sets come back with the new one live."""
        music, form = await read_upload(request, "music")
        htmx = bool(request.headers.get("hx-request"))
        try:
            options, music_id = forms.options_from_form(_MultiForm(form, await request.form()))
            if music is not None:
                music_id = (await music_uploads.save(request.user.id, music)).id
            await jobs.request_finish(request.user, video_id, options, music_id)
        except ValidationFailed as exc:
            if not htmx:
                raise
            message = render("partials/finishing/_error.html", error=exc.detail, video_id=video_id)
            return Response(
                message,
                media_type="text/html",
                status_code=exc.status_code,
                headers={"HX-Retarget": f"#finish-error-{video_id}", "HX-Reswap": "innerHTML"},
            )
        if not htmx:
            return Redirect(_route("videos:detail", video_id=video_id), status_code=303)
        return Template(
            SETS,
            context={"sets": await _sets(request.user.id, video_id), "video_id": video_id},
            headers={"HX-Trigger": "finish-started"},
        )

    @post("/{video_id:int}/finishings/{finishing_id:int}/delete", name="finishing:delete", status_code=200)
    async def delete(self, request: Request, video_id: FromPath[int], finishing_id: FromPath[int]) -> Response:
        await jobs.delete_set(request.user.id, video_id, finishing_id)
        if not request.headers.get("hx-request"):
            return Redirect(_route("videos:detail", video_id=video_id), status_code=303)
        return Response("", media_type="text/html")

    @get("/{video_id:int}/finishings/{finishing_id:int}/events", name="finishing:events")
    async def events(self, request: Request, video_id: FromPath[int], finishing_id: FromPath[int]) -> ServerSentEvent:
        await jobs.get_set(request.user.id, video_id, finishing_id)

        async def rendered():
            async for update in live.finishing_updates(finishing_id):
                if update.kind == "keepalive":
                    yield update, None
                    continue
                found = await jobs.get_set(request.user.id, video_id, finishing_id)
                yield update, render("partials/finishing/_set_body.html", **set_context(found, video_id))

        async def messages():
            async for update, html in rendered():
                if html is None:
                    yield ServerSentEventMessage(comment="keep-alive", data=None)
                else:
                    yield ServerSentEventMessage(data=html, event=update.kind, retry=live.RETRY_MS)

        return ServerSentEvent(messages(), headers={"Vary": "Cookie"})


class _MultiForm:
    """The string fields read with the file, plus `getall` for repeated fields (placements)."""

    def __init__(self, fields: dict[str, str], form) -> None:
        self.fields, self.form = fields, form

    def get(self, name: str, default=None):
        return self.fields.get(name, default)

    def getall(self, name: str, default=None):
        return [v for v in self.form.getall(name, default or []) if isinstance(v, str)]


def _route(name: str, **parameters) -> str:
    """A route's path by name (the pages here build links with query strings in Python)."""
    return url_for({}, name, **parameters)


def _preview_links(video_id: int, values: dict) -> dict:
    query = urlencode(
        {
            **{k: v for k, v in values.items() if k != "placements"},
            "placements": values["placements"][0] if values.get("placements") else "9:16",
        }
    )
    return {
        "frame": _route("finishing:preview-frame", video_id=video_id) + "?" + query,
        "card": _route("finishing:preview-card", video_id=video_id) + "?" + query,
    }
