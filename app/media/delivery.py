"""Media delivery: public showcase and trial files under /media/public/, and each user's own files under /media/."""

from __future__ import annotations

import re

from litestar import Controller, Request, Response, route
from litestar.params import FromPath

from app.errors import NotFound
from app.media.access import owned_key
from app.media.serving import answer
from app.web.auth import user_from_bearer

SAFE_FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,79}\.(mp4|webp|jpg|png)")


class PublicMediaController(Controller):
    path = "/media/public"
    include_in_schema = False

    @route("/{key:path}", http_method=["GET", "HEAD"], name="media:public")
    async def public_media(self, request: Request, key: FromPath[str]) -> Response:
        """Showcase videos, posters and trial images: anyone may fetch them."""
        return await answer(request, "public/" + key.lstrip("/"), public=True)


class OwnerMediaController(Controller):
    path = "/media"
    include_in_schema = False

    @route("/{key:path}", http_method=["GET", "HEAD"], name="media:owner")
    async def owner_media(self, request: Request, key: FromPath[str]) -> Response:
        """A user's videos, posters and uploads, to that user only (signed-in page or bearer token).

        Anyone else — and any key the user does not own — gets the same 404, so keys cannot be probed.
        `?download=1` (or `?download=<file name>`) asks the browser to save the file. With object storage
        the answer is a redirect to a short-lived URL of the file in the bucket.
        """
        user = request.user or await user_from_bearer(request.headers.get("authorization"))
        owned = await owned_key(user.id if user else None, key.lstrip("/"))
        if owned is None:
            raise NotFound("No such file.")
        download = request.query_params.get("download")
        name = None
        if download:
            # `?download=<name>` names the saved file (the page passes one made from the prompt).
            name = download if SAFE_FILE_NAME.fullmatch(download) else f"adsvideo-{owned.key.rsplit('/', 1)[-1]}"
        return await answer(request, owned.key, public=False, content_type=owned.content_type, download_name=name)
