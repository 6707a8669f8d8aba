"""Admin pages for the home page's content: showcase videos and trial images (administrators only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import ValidationFailed
from app.showcase import content
from app.showcase.content import TrialFields, VideoFields
from app.web.auth import admin_required

# Showcase videos can be large; the services refuse anything over their own limits with a clear message.
MAX_FORM_BYTES = content.MAX_VIDEO_BYTES + 32 * 1024 * 1024
NOTICE = "admin_notice"


async def _file(form: Any, name: str) -> bytes | None:
    value = form.get(name)
    if isinstance(value, UploadFile):
        data = await value.read()
        await value.close()
        return data or None
    return None


def _order(form: Any) -> int | None:
    raw = (form.get("order") or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed("Order must be a whole number.") from None
    if not -100_000 <= value <= 100_000:
        raise ValidationFailed("Order must be between -100000 and 100000.")
    return value


def _checked(form: Any, name: str) -> bool:
    return form.get(name) in ("on", "true", "1")


def _video_fields(form: Any) -> VideoFields:
    return VideoFields(
        title=form.get("title") or "",
        description=form.get("description") or "",
        category=form.get("category") or "",
        order=_order(form),
        is_featured=_checked(form, "is_featured"),
        is_hero=_checked(form, "is_hero"),
        is_active=_checked(form, "is_active"),
    )


def _trial_fields(form: Any) -> TrialFields:
    return TrialFields(
        title=form.get("title") or "",
        category=form.get("category") or "",
        order=_order(form),
        is_active=_checked(form, "is_active"),
    )


def _values(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _done(request: Request, message: str, route: str) -> Redirect:
    """Back to the list named `route`, with `message` shown once."""
    request.session[NOTICE] = message
    return Redirect(request.app.route_reverse(route), status_code=303)


def _notices(request: Request) -> list[tuple[str, str]]:
    message = request.session.pop(NOTICE, None) if request.session else None
    return [("success", message)] if message else []


class AdminShowcaseController(Controller):
    path = "/admin/showcase"
    guards = [admin_required]
    include_in_schema = False

    async def _list(
        self, request: Request, *, error: str | None = None, values: dict | None = None, status: int = 200
    ) -> Template:
        return Template(
            "pages/showcase/admin_videos.html",
            context={
                "videos": await content.all_videos(),
                "error": error,
                "values": values or {"is_active": "on"},
                "flashes": _notices(request),
            },
            status_code=status,
        )

    @get("/", name="admin:showcase")
    async def index(self, request: Request) -> Template:
        return await self._list(request)

    @post("/", name="admin:showcase-create", request_max_body_size=MAX_FORM_BYTES)
    async def create(self, request: Request) -> Template | Redirect:
        form = await request.form()
        try:
            row = await content.create_video(
                _video_fields(form), await _file(form, "video"), await _file(form, "poster")
            )
        except ValidationFailed as exc:
            return await self._list(request, error=exc.detail, values=_values(form), status=exc.status_code)
        return _done(request, f"Added “{row.title}”.", "admin:showcase")

    @get("/{video_id:int}/edit", name="admin:showcase-edit")
    async def edit(self, request: Request, video_id: FromPath[int]) -> Template:
        row = await content.get_video(video_id)
        return Template("pages/showcase/admin_video_edit.html", context={"video": row, "error": None, "values": None})

    @post("/{video_id:int}", name="admin:showcase-update", request_max_body_size=MAX_FORM_BYTES)
    async def update(self, request: Request, video_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            row = await content.update_video(
                video_id, _video_fields(form), await _file(form, "video"), await _file(form, "poster")
            )
        except ValidationFailed as exc:
            row = await content.get_video(video_id)
            return Template(
                "pages/showcase/admin_video_edit.html",
                context={"video": row, "error": exc.detail, "values": _values(form)},
                status_code=exc.status_code,
            )
        return _done(request, f"Saved “{row.title}”.", "admin:showcase")

    @post("/{video_id:int}/toggle/{flag:str}", name="admin:showcase-toggle")
    async def toggle(self, request: Request, video_id: FromPath[int], flag: FromPath[str]) -> Redirect:
        row = await content.toggle_video(video_id, flag)
        label = {"is_featured": "Featured", "is_hero": "In the hero carousel", "is_active": "Shown"}[flag]
        return _done(request, f"“{row.title}”: {label} {'on' if getattr(row, flag) else 'off'}.", "admin:showcase")

    @post("/{video_id:int}/move/{direction:str}", name="admin:showcase-move")
    async def move(self, request: Request, video_id: FromPath[int], direction: FromPath[str]) -> Redirect:
        await content.move_video(video_id, direction)
        return _done(request, "Order saved.", "admin:showcase")

    @post("/{video_id:int}/delete", name="admin:showcase-delete")
    async def delete(self, request: Request, video_id: FromPath[int]) -> Redirect:
        await content.delete_video(video_id)
        return _done(request, "Video deleted.", "admin:showcase")


class AdminTrialImagesController(Controller):
    path = "/admin/trial-images"
    guards = [admin_required]
    include_in_schema = False

    async def _list(
        self, request: Request, *, error: str | None = None, values: dict | None = None, status: int = 200
    ) -> Template:
        return Template(
            "pages/showcase/admin_trial_images.html",
            context={
                "images": await content.all_trial_images(),
                "error": error,
                "values": values or {"is_active": "on"},
                "flashes": _notices(request),
            },
            status_code=status,
        )

    @get("/", name="admin:trial-images")
    async def index(self, request: Request) -> Template:
        return await self._list(request)

    @post("/", name="admin:trial-image-create", request_max_body_size=MAX_FORM_BYTES)
    async def create(self, request: Request) -> Template | Redirect:
        form = await request.form()
        try:
            row = await content.create_trial_image(_trial_fields(form), await _file(form, "image"))
        except ValidationFailed as exc:
            return await self._list(request, error=exc.detail, values=_values(form), status=exc.status_code)
        return _done(request, f"Added “{row.title}”.", "admin:trial-images")

    @get("/{trial_id:int}/edit", name="admin:trial-image-edit")
    async def edit(self, request: Request, trial_id: FromPath[int]) -> Template:
        row = await content.get_trial_image(trial_id)
        return Template(
            "pages/showcase/admin_trial_image_edit.html", context={"image": row, "error": None, "values": None}
        )

    @post("/{trial_id:int}", name="admin:trial-image-update", request_max_body_size=MAX_FORM_BYTES)
    async def update(self, request: Request, trial_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            row = await content.update_trial_image(trial_id, _trial_fields(form), await _file(form, "image"))
        except ValidationFailed as exc:
            row = await content.get_trial_image(trial_id)
            return Template(
                "pages/showcase/admin_trial_image_edit.html",
                context={"image": row, "error": exc.detail, "values": _values(form)},
                status_code=exc.status_code,
            )
        return _done(request, f"Saved “{row.title}”.", "admin:trial-images")

    @post("/{trial_id:int}/toggle", name="admin:trial-image-toggle")
    async def toggle(self, request: Request, trial_id: FromPath[int]) -> Redirect:
        row = await content.toggle_trial_image(trial_id)
        return _done(request, f"“{row.title}” is now {'shown' if row.is_active else 'hidden'}.", "admin:trial-images")

    @post("/{trial_id:int}/move/{direction:str}", name="admin:trial-image-move")
    async def move(self, request: Request, trial_id: FromPath[int], direction: FromPath[str]) -> Redirect:
        await content.move_trial_image(trial_id, direction)
        return _done(request, "Order saved.", "admin:trial-images")

    @post("/{trial_id:int}/delete", name="admin:trial-image-delete")
    async def delete(self, request: Request, trial_id: FromPath[int]) -> Redirect:
        await content.delete_trial_image(trial_id)
        return _done(request, "Trial image deleted.", "admin:trial-images")
