"""/create — the studio: the form, its live settings and price, and submitting it."""

from __future__ import annotations

import dataclasses
import uuid

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from app.config import get_settings
from app.errors import AppError
from app.limits.rates import RATE_LIMIT_OPT
from app.media import uploads
from app.media.upload_limits import read_file_field
from app.videos import studio
from app.web.auth import user_required
from app.web.credits import credits_chip


async def _form_context(
    request: Request, selection: studio.Selection, *, error: str | None = None, fix: tuple[str, str] | None = None
) -> dict:
    user = request.user
    settings = await studio.settings_for(user, selection)
    upload = (
        await uploads.info_for_user(user.id, selection.upload_id, settings.selection.size)
        if selection.upload_id
        else None
    )
    trials = await studio.trial_images()
    return {
        "settings": settings,
        "selection": settings.selection,
        "quote": settings.quote,
        "upload": upload,
        "upload_error": None,
        "trial_images": trials,
        "more_photos": await studio.more_photos(user.id, trials),
        "prompt_max": studio.PROMPT_MAX,
        "max_upload_mb": get_settings().max_upload_mb,
        "idempotency_key": uuid.uuid4().hex,
        "error": error,
        "error_fix": fix,
    }


class StudioController(Controller):
    include_in_schema = False
    guards = [user_required]

    @get("/create", name="studio:create")
    async def create_page(self, request: Request, trial_image: FromQuery[int | None] = None) -> Template:
        """The studio; `?from=<video id>` copies one of your videos, `?trial_image=<id>` picks a trial image."""
        from_video = studio._int(request.query_params.get("from"))
        selection = await studio.prefill(request.user, from_video, trial_image)
        if not from_video:  # the no-JavaScript "update price" button sends the form's values back here
            asked = studio.selection_from(dict(request.query_params))
            asked.trial_image_id = asked.trial_image_id or trial_image
            selection = asked
        return Template("pages/videos/create.html", context=await _form_context(request, selection))

    @get("/create/settings", name="studio:settings")
    async def settings_fragment(self, request: Request) -> Template:
        """The model, duration and size pickers with the price and balance after (htmx, on every change)."""
        selection = studio.selection_from(dict(request.query_params))
        settings = await studio.settings_for(request.user, selection)
        context = {"settings": settings, "selection": settings.selection, "quote": settings.quote}
        if selection.upload_id:
            # The upload's warnings depend on the size: its preview comes along, out of band.
            context["upload"] = await uploads.info_for_user(
                request.user.id, selection.upload_id, settings.selection.size
            )
            context["upload_oob"] = context["upload"] is not None
        return Template("partials/videos/studio/_settings.html", context=context, headers={"Vary": "HX-Request"})

    @post("/create", name="studio:submit", opt={RATE_LIMIT_OPT: "generate"}, status_code=303)
    async def submit(self, request: Request) -> Response:
        """Create the video (uploading the chosen file first when the form came without JavaScript) and go to it."""
        from app.videos import service as videos_service

        data, fields = await read_file_field(request)
        selection = studio.selection_from(fields)
        try:
            if data:
                info = await uploads.save(request.user.id, data, selection.size)
                selection.upload_id = info.id
            spec = videos_service.VideoSpec(
                prompt=selection.prompt,
                model=selection.model,
                duration=selection.duration or 0,
                resolution=selection.size,
                reference_image_id=selection.upload_id,
                trial_image_id=None if selection.upload_id else selection.trial_image_id,
                audio=selection.audio,
                variations=selection.variations,
            )
            also = [
                ref
                for value in (await request.form()).getall("also_photo", [])
                if isinstance(value, str) and (ref := studio.photo_reference(value))
            ]
            if also:  # several photos, one prompt: one request per photo, as a batch (all charged or none)
                specs = [spec] + [
                    dataclasses.replace(spec, reference_image_id=upload, trial_image_id=trial, variations=1)
                    for upload, trial in also
                ]
                batch_id, videos = await videos_service.create_batch(request.user, specs)
            else:
                videos, _ = await videos_service.create_videos(
                    request.user, spec, idempotency_key=fields.get("idempotency_key") or None
                )
        except AppError as exc:
            fix = getattr(exc, "fix", None)
            context = await _form_context(request, selection, error=exc.detail, fix=fix)
            template = "partials/videos/studio/_form.html" if request.htmx else "pages/videos/create.html"
            return Template(template, context=context, status_code=exc.status_code)
        if videos[0].batch_id:  # one per photo, side by side
            url = request.app.route_reverse("videos:batch", batch_id=videos[0].batch_id)
        elif len(videos) > 1:  # the variations side by side, each following its own job
            url = request.app.route_reverse("videos:group", group_id=videos[0].group_id)
        else:
            url = request.app.route_reverse("videos:detail", video_id=videos[0].id)
        if request.htmx:
            # The body carries the new balance for the header, in case the page is kept (e.g. boosted).
            return Response(
                await credits_chip(request.user.id),
                status_code=200,
                headers={"HX-Redirect": url},
                media_type="text/html",
            )
        return Redirect(url, status_code=303)
