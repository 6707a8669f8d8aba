"""Media delivery: public showcase and trial files under /media/public/ (owner-only media is added by the studio)."""

from __future__ import annotations

from litestar import Controller, Request, Response, route
from litestar.params import FromPath

from app.errors import NotFound
from app.services.storage import get_storage
from app.web.ranged import serve_file


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
