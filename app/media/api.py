"""/api/v1/upload: upload a reference image, or only check one."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.limits.rates import RATE_LIMIT_OPT
from app.media import uploads as uploads_service
from app.media.cpu import run_cpu
from app.media.upload_limits import read_file_field
from app.web.auth import user_required
from app.web.openapi import BEARER, MultipartUpload, UploadOut, ValidateOut, error_responses


class UploadApiController(Controller):
    path = "/api/v1/upload"
    tags = ["upload"]

    @post(
        "/image",
        guards=[user_required],
        security=BEARER,
        opt={RATE_LIMIT_OPT: "upload"},
        status_code=HTTP_201_CREATED,
        name="api:upload-image",
        operation_class=MultipartUpload,
        responses=error_responses(401, 413, 422, 429),
    )
    async def upload_image(self, request: Request) -> UploadOut:
        """Upload a JPEG, PNG or WebP (multipart field `file`; optional `size` such as 1280x720 for the crop
        warning). Answers id, url, width, height and `warning`."""
        data, fields = await read_file_field(request)
        info = await uploads_service.save(request.user.id, uploads_service.require_file(data), fields.get("size"))
        return UploadOut(**info.as_json())

    @post(
        "/validate",
        status_code=HTTP_200_OK,
        opt={RATE_LIMIT_OPT: "validate"},
        name="api:upload-validate",
        operation_class=MultipartUpload,
        responses=error_responses(413, 422, 429),
    )
    async def validate(self, request: Request) -> ValidateOut:
        """Check a file as an upload would, storing nothing: 200 with the dimensions, or 4xx saying what is wrong."""
        data, fields = await read_file_field(request)
        info = await run_cpu(uploads_service.describe, uploads_service.require_file(data), fields.get("size"))
        return ValidateOut(valid=True, **info.as_json())
