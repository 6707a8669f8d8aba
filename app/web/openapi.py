"""OpenAPI documentation: the document's config, the shared error schema and helpers for API handlers.

Handlers document their errors with `responses=error_responses(401, 404)` and bearer-protected routes add
`security=BEARER`. Page controllers set `include_in_schema=False`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Litestar, Request, Router, get
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
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
    422: "validation_error",
    429: "rate_limited",
    502: "payments_unavailable",
}
ERROR_DESCRIPTIONS = {
    400: "The request is malformed.",
    401: "Not signed in: the bearer token is missing, expired or invalid.",
    402: "Not enough credits.",
    403: "Signed in, but not allowed (for example, the plan does not include this).",
    404: "Not found, or not yours.",
    409: "Conflicts with the current state.",
    413: "The upload is too large.",
    422: "The values sent are not valid; `detail` says which and why.",
    429: "Too many requests; try again later.",
    502: "An upstream service (payments) did not answer; nothing was charged.",
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


def finalize_openapi(app: Litestar) -> None:
    """Startup hook: Litestar documents parameter validation failures as its own 400 body, but this app
    answers them with 422 and `ErrorBody`; rewrite those entries so the document says what really happens."""
    document = app.openapi_schema
    for path_item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method, None)
            if operation is None or not operation.responses:
                continue
            auto = operation.responses.get("400")
            if isinstance(auto, OpenAPIResponse) and auto.description == "Bad request syntax or unsupported method":
                del operation.responses["400"]
                operation.responses.setdefault(
                    "422",
                    OpenAPIResponse(
                        description=ERROR_DESCRIPTIONS[422],
                        content={"application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ErrorBody"))},
                    ),
                )


# Swagger UI and ReDoc are vendored (static/vendor) and started by a script file, so the pages load with
# no other host and no inline script. Both inject their own styles, and ReDoc runs its search in a worker.
DOCS_CSP = {"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"}
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
        body=f'<redoc spec-url="/openapi.json"></redoc>\n<script src="{REDOC_JS}"></script>',
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
