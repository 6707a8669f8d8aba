"""Reading a multipart file field for finishing uploads (music can be larger than a picture)."""

from __future__ import annotations

from litestar import Request, Router
from litestar.datastructures import UploadFile
from litestar.types import ControllerRouterHandler

from app.config import Settings, get_settings
from app.media.upload_limits import FORM_OVERHEAD, UploadTooLarge


def _limit(settings: Settings) -> int:
    return max(settings.max_audio_bytes, settings.max_upload_bytes)


def finishing_router(settings: Settings, handlers: list[ControllerRouterHandler]) -> Router:
    """Mount `handlers` so a body over the larger of the music and picture limits is refused early."""
    return Router(path="/", route_handlers=handlers, request_max_body_size=_limit(settings) + FORM_OVERHEAD)


async def read_upload(request: Request, field: str = "file") -> tuple[bytes | None, dict[str, str]]:
    """(the file's bytes or None when absent or empty-named, the other fields as strings)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > _limit(get_settings()) + FORM_OVERHEAD:
        raise UploadTooLarge(
            f"The file is larger than {_limit(get_settings()) // (1024 * 1024)} MB, the most we accept."
        )
    form = await request.form()
    data = None
    upload = form.get(field)
    if isinstance(upload, UploadFile):
        data = await upload.read()
        await upload.close()
        if not data and not upload.filename:
            data = None  # an empty file input in a form sends a nameless empty part
    return data, {k: v for k, v in form.items() if isinstance(v, str)}
