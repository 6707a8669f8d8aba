"""Public, cacheable JSON: `Cache-Control: public`, an `ETag` from the body, and 304 on `If-None-Match`."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response

PUBLIC_MAX_AGE = 60


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def public_json(request: Request, value: Any, *, max_age: int = PUBLIC_MAX_AGE) -> Response:
    """`value` as JSON that browsers and proxies may cache; an unchanged body answers 304 without one."""
    body = msgspec.json.encode(value)
    etag = etag_for(body)
    headers = {"Cache-Control": f"public, max-age={max_age}", "ETag": etag}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)
