"""OpenAPI documentation: the document's config, the shared error schema and helpers for API handlers.

Handlers document their errors with `responses=error_responses(401, 404)` and bearer-protected routes add
`security=BEARER`. Page controllers set `include_in_schema=False`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Controller, Litestar, Request, Router, get
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
    Tag,
)
from litestar.response import Response

from app.web.headers import CSP_OPT

API_TITLE = "AdsVideo API"
API_VERSION = "1.0.0"
DOCS_PATH = "/docs"

# Use as `security=BEARER` on handlers that need `Authorization: Bearer <access token>`.
BEARER: list[dict[str, list[str]]] = [{"BearerAuth": []}]

ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "file_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    502: "payments_unavailable",
    503: "service_unavailable",
}
ERROR_DESCRIPTIONS = {
    400: "The request is malformed (for example, a body that is not JSON).",
    401: "Not signed in: the bearer token is missing, expired or invalid.",
    402: "Not enough credits.",
    403: "Signed in, but not allowed (for example, the plan does not include this).",
    404: "Not found, or not yours.",
    409: "Conflicts with the current state.",
    413: "The request body is too large.",
    415: "The body is not of a type this operation accepts.",
    422: "The values sent are not valid; `detail` says which and why.",
    429: "Too many requests (or too many jobs or streams at once); `Retry-After` says when to try again.",
    502: "An upstream service (payments) did not answer; nothing was charged.",
    503: "A service this depends on (for example Google sign-in) cannot be reached; try again shortly.",
}


class ErrorBody(msgspec.Struct):
    """Every API error: a human message, a stable machine code and the HTTP status."""

    detail: str
    code: str
    status_code: int
    upgrade_url: str | None = None  # on a 403 for a missing or ended plan: where to get one


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` for a handler: each status documented with the `ErrorBody` schema."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=ERROR_DESCRIPTIONS.get(status, "Error"),
            generate_examples=False,
            examples=[
                Example(
                    summary=ERROR_CODES.get(status, "error"),
                    value={
                        "detail": ERROR_DESCRIPTIONS.get(status, "Error"),
                        "code": ERROR_CODES.get(status, "error"),
                        "status_code": status,
                    },
                )
            ],
        )
        for status in statuses
    }


def _error(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=ERROR_DESCRIPTIONS.get(status, "Error"),
        content={"application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ErrorBody"))},
    )


def _document_operation(path: str, operation: Operation) -> None:
    responses = operation.responses
    auto = responses.get("400")
    if isinstance(auto, OpenAPIResponse) and auto.description == "Bad request syntax or unsupported method":
        # Litestar documents parameter errors as its own 400 body; this app answers them with 422.
        del responses["400"]
    has_input = bool(operation.parameters or operation.request_body)
    if has_input:
        responses.setdefault("422", _error(422))  # also: NUL characters, numbers beyond 2147483647
    if operation.security:
        responses.setdefault("401", _error(401))
    if "{" in path:
        responses.setdefault("404", _error(404))  # also: an id beyond 2147483647
    if operation.request_body:
        content = operation.request_body.content or {}
        if "application/json" in content:
            responses.setdefault("400", _error(400))  # not JSON at all
        responses.setdefault("413", _error(413))  # larger than the body limit
    for status, response in responses.items():
        if status == "204" and isinstance(response, OpenAPIResponse):
            response.content = None  # a 204 has no body


def finalize_openapi(app: Litestar) -> None:
    """Startup hook: make the document say what really happens — the errors every operation can answer
    (401 for bearer routes, 422 for bad parameters, 400/413 for bodies, 404 for ids), no body on 204,
    and the live-progress streams as `text/event-stream`."""
    document = app.openapi_schema
    for path, path_item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method, None)
            if operation is None or operation.responses is None:
                continue
            _document_operation(path, operation)
            if path.endswith("/events") and "200" in operation.responses:
                operation.responses["200"] = OpenAPIResponse(
                    description="A stream of Server-Sent Events (see the description).",
                    content={"text/event-stream": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
                )
                operation.responses.setdefault("429", _error(429))


@dataclass
class MultipartUpload(Operation):
    """The documented body of an image upload: multipart with the file and an optional target size."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=f"multipart/form-data; at most MAX_UPLOAD_MB ({ERROR_DESCRIPTIONS[413]})",
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["file"],
                        properties={
                            "file": Schema(
                                type=OpenAPIType.STRING,
                                format=OpenAPIFormat.BINARY,
                                description="A JPEG, PNG or WebP image.",
                            ),
                            "size": Schema(
                                type=OpenAPIType.STRING,
                                description="The video size it is for, e.g. 1280x720 (for the crop warning).",
                            ),
                        },
                    )
                )
            },
        )


class UploadOut(msgspec.Struct):
    """An upload (`id` and `url` are null for `validate`, which stores nothing)."""

    id: int | None
    url: str | None
    width: int
    height: int
    content_type: str
    bytes: int
    warning: str | None


class ValidateOut(UploadOut):
    valid: bool = True


# Swagger UI and ReDoc are vendored (static/vendor) and started by a script file, so the pages load with
# no other host and no inline script. Both inject their own styles, and ReDoc runs its search in a worker.
DOCS_CSP = {"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:", "font-src": "'self' data:"}
SWAGGER_JS = "/static/vendor/swagger-ui-bundle-5.35.0.js"
SWAGGER_CSS = "/static/vendor/swagger-ui-5.35.0.css"
REDOC_JS = "/static/vendor/redoc-3.0.1.standalone.js"
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
{head}
</head>
<body>
{body}
</body>
</html>
"""


class VendoredSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI from our own static files; static/js/swagger-init.js points it at /openapi.json."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return _PAGE.format(
            title=f"{API_TITLE} · Swagger UI",
            head=f'<link rel="stylesheet" href="{SWAGGER_CSS}">',
            body=(
                '<div id="swagger-ui" data-spec-url="/openapi.json"></div>\n'
                f'<script src="{SWAGGER_JS}"></script>\n<script src="/static/js/swagger-init.js"></script>'
            ),
        ).encode()


def redoc_page() -> bytes:
    return _PAGE.format(
        title=f"{API_TITLE} · ReDoc",
        head="",
        body=f'<redoc spec-url="/openapi.json"></redoc>\n<script type="module" src="{REDOC_JS}"></script>',
    ).encode()


def openapi_config() -> OpenAPIConfig:
    """Swagger UI at /docs; ReDoc at /redoc and the JSON at /openapi.json come from `DocsController`."""
    return OpenAPIConfig(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "The AdsVideo JSON API: sign in with Google, generate ad videos from a product photo and a prompt, "
            "follow their progress, and read the public showcase. Errors are always "
            '`{"detail", "code", "status_code"}`.'
        ),
        path=DOCS_PATH,
        render_plugins=[VendoredSwaggerPlugin(path="/")],
        openapi_router=Router(DOCS_PATH, route_handlers=[], include_in_schema=False, opt={CSP_OPT: DOCS_CSP}),
        components=Components(
            security_schemes={
                "BearerAuth": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="The access token from POST /api/v1/auth/google or /api/v1/auth/refresh.",
                )
            }
        ),
        tags=[
            Tag(name="showcase", description="Public home-page content: showcase videos and trial images."),
            Tag(name="users", description="Users and profiles."),
        ],
        use_handler_docstrings=True,
    )


def _schema(request: Request) -> dict[str, Any]:
    return request.app.openapi_schema.to_schema()


class DocsController(Controller):
    """The document at /openapi.json and ReDoc at /redoc (Swagger UI is served by Litestar at /docs)."""

    include_in_schema = False
    opt = {CSP_OPT: DOCS_CSP}

    @get("/openapi.json", media_type="application/json", name="openapi:json", sync_to_thread=False)
    def openapi_json(self, request: Request) -> Response[bytes]:
        return Response(JsonRenderPlugin().render(request, _schema(request)), media_type="application/json")

    @get("/redoc", media_type="text/html", name="openapi:redoc", sync_to_thread=False)
    def redoc(self, request: Request) -> Response[bytes]:
        return Response(redoc_page(), media_type="text/html")
