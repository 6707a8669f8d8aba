"""Serve a stored file with HTTP Range (206/416), HEAD, ETag/Last-Modified and 304 — what video players need.

Litestar's File response ignores Range, and Safari will not play a <video> whose range probe gets a 200.
A player asks for slices of a megabyte or so: each is read in one trip to a worker thread and sent as one
body, since uvicorn has no sendfile and every thread hop and ASGI message costs more than the copy.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from email.utils import format_datetime, parsedate_to_datetime

import anyio
from litestar import Request, Response
from litestar.response import Stream

from app.media.storage import StoredFile

WHOLE = 4 * 1024 * 1024  # a body up to this size is read at once and sent as one message
CHUNK = 1024 * 1024  # larger bodies are streamed in chunks of this size
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def etag_for(stored: StoredFile) -> str:
    return f'"{stored.size:x}-{int(stored.modified.timestamp() * 1000):x}"'


def _not_modified(request: Request, etag: str, stored: StoredFile) -> bool:
    inm = request.headers.get("if-none-match")
    if inm is not None:
        return any(tag.strip() in (etag, "*", f"W/{etag}") for tag in inm.split(","))
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            return int(stored.modified.timestamp()) <= int(parsedate_to_datetime(ims).timestamp())
        except (TypeError, ValueError):
            return False
    return False


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) for the first range of `header`; None when it cannot be satisfied. Raises ValueError if malformed."""
    match = _RANGE.match(header.strip().split(",")[0].strip())
    if not match:
        raise ValueError(header)
    start, end = match.groups()
    if start == "" and end == "":
        raise ValueError(header)
    if start == "":
        length = int(end)
        if length == 0 or size == 0:
            return None
        return max(0, size - length), size - 1
    first = int(start)
    if end and int(end) < first:
        raise ValueError(header)  # RFC 9110 §14.1.1: an invalid range-spec; the whole header is ignored
    if first >= size:
        return None
    return first, min(int(end) if end else size - 1, size - 1)


def _read_at(fd: int, first: int, length: int) -> bytes:
    """Up to `length` bytes at `first` (fewer only if the file ends sooner)."""
    parts = []
    while length > 0:
        part = os.pread(fd, length, first)
        if not part:
            break
        parts.append(part)
        first += len(part)
        length -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_slice(stored: StoredFile, first: int, length: int) -> bytes:
    fd = os.open(stored.path, os.O_RDONLY)
    try:
        return _read_at(fd, first, length)
    finally:
        os.close(fd)


async def _stream(stored: StoredFile, first: int, last: int) -> AsyncIterator[bytes]:
    # anyio's thread calls run to the end even when the client goes away, so `fd` is closed only after its last read.
    fd = await anyio.to_thread.run_sync(os.open, stored.path, os.O_RDONLY)
    try:
        while first <= last:
            chunk = await anyio.to_thread.run_sync(_read_at, fd, first, min(CHUNK, last - first + 1))
            if not chunk:
                break
            first += len(chunk)
            yield chunk
    finally:
        os.close(fd)


async def serve_file(request: Request, stored: StoredFile, *, cache_control: str = "private, max-age=3600") -> Response:
    """A 200, 206, 304 or 416 answer for `stored`; bodies are omitted for HEAD."""
    etag = etag_for(stored)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": format_datetime(stored.modified, usegmt=True),
        "Cache-Control": cache_control,
    }
    if _not_modified(request, etag, stored):
        return Response(content=b"", status_code=304, headers=headers)

    first, last, status = 0, stored.size - 1, 200
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and (if_range is None or if_range == etag):
        try:
            wanted = parse_range(range_header, stored.size)
        except ValueError:
            wanted = (0, stored.size - 1)  # a malformed Range is ignored, as RFC 9110 allows
        else:
            if wanted is None:
                return Response(
                    content=b"",
                    status_code=416,
                    headers={**headers, "Content-Range": f"bytes */{stored.size}"},
                )
            status = 206
        first, last = wanted
    length = max(0, last - first + 1)
    headers["Content-Length"] = str(length)
    if status == 206:
        headers["Content-Range"] = f"bytes {first}-{last}/{stored.size}"
    if request.method == "HEAD" or length == 0:
        return Response(content=b"", status_code=status, headers=headers, media_type=stored.content_type)
    if length <= WHOLE:
        body = await asyncio.to_thread(_read_slice, stored, first, length)
        return Response(content=body, status_code=status, headers=headers, media_type=stored.content_type)
    return Stream(_stream(stored, first, last), status_code=status, headers=headers, media_type=stored.content_type)
