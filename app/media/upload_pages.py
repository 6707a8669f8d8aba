"""The studio's image upload (htmx, page session + CSRF): answers the preview, or the reason in place."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.response import Template

from app.errors import AppError
from app.limits.rates import RATE_LIMIT_OPT
from app.media import uploads as uploads_service
from app.media.upload_limits import read_file_field
from app.web.auth import user_required


class StudioUploadController(Controller):
    include_in_schema = False
    guards = [user_required]

    @post("/create/upload", name="studio:upload", opt={RATE_LIMIT_OPT: "upload"}, status_code=200)
    async def upload(self, request: Request) -> Template:
        size = None
        try:
            data, fields = await read_file_field(request)
            size = fields.get("size")
            info = await uploads_service.save(request.user.id, uploads_service.require_file(data), size)
        except AppError as exc:
            return Template(
                "partials/videos/studio/_upload.html",
                context={"upload": None, "upload_error": exc.detail},
                status_code=exc.status_code,
            )
        return Template("partials/videos/studio/_upload.html", context={"upload": info, "upload_error": None})
