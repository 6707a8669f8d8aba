"""Media delivery: public showcase and trial files under /media/public/, and each user's own files under /media/."""

from __future__ import annotations

import re

from litestar import Controller, Request, Response, route
from litestar.params import FromPath

from app.errors import NotFound
from app.media.access import owned_file
from app.media.ranged import serve_file
from app.media.storage import get_storage
from app.web.auth import user_from_bearer

SAFE_FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,79}\.(mp4|webp|jpg|png)")


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
        `?download=1` (or `?download=<file name>`) asks the browser to save the file.
        """
        user = request.user or await user_from_bearer(request.headers.get("authorization"))
        stored = await owned_file(user.id if user else None, key.lstrip("/"))
        if stored is None:
            raise NotFound("No such file.")
        response = serve_file(request, stored, cache_control="private, max-age=3600")
        download = request.query_params.get("download")
        if download:
            # `?download=<name>` names the saved file (the page passes one made from the prompt).
            name = download if SAFE_FILE_NAME.fullmatch(download) else f"adsvideo-{stored.key.rsplit('/', 1)[-1]}"
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            response.headers["Cache-Control"] = "private, no-store"
        return response
