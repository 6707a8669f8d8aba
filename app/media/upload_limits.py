"""Reading an uploaded file from a multipart request, within the configured size limit."""

from __future__ import annotations

from litestar import Request, Router
from litestar.datastructures import UploadFile
from litestar.types import ControllerRouterHandler

from app.config import Settings, get_settings
from app.errors import AppError

# Room for the multipart envelope and the other form fields around the file itself.
FORM_OVERHEAD = 256 * 1024


class UploadTooLarge(AppError):
    status_code = 413
    code = "file_too_large"


def too_large() -> UploadTooLarge:
    return UploadTooLarge(f"The file is larger than {get_settings().max_upload_mb} MB, the most we accept.")


def limited_router(settings: Settings, handlers: list[ControllerRouterHandler]) -> Router:
    """Mount `handlers` so a body over MAX_UPLOAD_MB is refused by Content-Length or while streaming,
    before it is all read into memory."""
    return Router(path="/", route_handlers=handlers, request_max_body_size=settings.max_upload_bytes + FORM_OVERHEAD)


async def read_file_field(request: Request, field: str = "file") -> tuple[bytes | None, dict[str, str]]:
    """(the file's bytes or None, the other fields as strings)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > get_settings().max_upload_bytes + FORM_OVERHEAD:
        raise too_large()
    form = await request.form()
    upload = form.get(field)
    data = None
    if isinstance(upload, UploadFile):
        data = await upload.read()
        await upload.close()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return data, fields
