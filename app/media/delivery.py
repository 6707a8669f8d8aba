"""Media delivery: public showcase and trial files under /media/public/, and each user's own files under /media/."""

from __future__ import annotations

from litestar import Controller, Request, Response, route
from litestar.params import FromPath

from app.errors import NotFound
from app.media.access import owned_file
from app.media.ranged import serve_file
from app.media.storage import get_storage
from app.web.auth import user_from_bearer


class PublicMediaController(Controller):
    path = "/media/public"
    include_in_schema = False

    @route("/{key:path}", http_method=["GET", "HEAD"], name="media:public")
    async def public_media(self, request: Request, key: FromPath[str]) -> Response:
        """Showcase videos, posters and trial images: anyone may fetch them."""
        stored = get_storage().stat("public/" + key.lstrip("/"))
        if stored is None:
            raise NotFound("No such file.")
        return serve_file(request, stored, cache_control="public, max-age=86400")


class OwnerMediaController(Controller):
    path = "/media"
    include_in_schema = False

    @route("/{key:path}", http_method=["GET", "HEAD"], name="media:owner")
    async def owner_media(self, request: Request, key: FromPath[str]) -> Response:
        """A user's videos, posters and uploads, to that user only (signed-in page or bearer token).

        Anyone else — and any key the user does not own — gets the same 404, so keys cannot be probed.
        `?download=1` asks the browser to save the file.
        """
        user = request.user or await user_from_bearer(request.headers.get("authorization"))
        stored = await owned_file(user.id if user else None, key.lstrip("/"))
        if stored is None:
            raise NotFound("No such file.")
        response = serve_file(request, stored, cache_control="private, max-age=3600")
        if request.query_params.get("download") in ("1", "true"):
            name = stored.key.rsplit("/", 1)[-1]
            response.headers["Content-Disposition"] = f'attachment; filename="adsvideo-{name}"'
            response.headers["Cache-Control"] = "private, no-store"
        return response
