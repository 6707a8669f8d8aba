"""Answer a media request for a stored key: from this machine's disk (with Range), or by a redirect to the bucket.

With object storage the browser fetches the bytes from the storage service itself through a presigned
URL (Range, seeking and HEAD work there); the app only checks who may have them.
"""

from __future__ import annotations

from dataclasses import replace

from litestar import Request, Response
from litestar.response import Redirect

from app.errors import NotFound
from app.media.backend import InvalidKey
from app.media.ranged import serve_file
from app.media.storage import StoredFile, get_storage

PUBLIC_CACHE = "public, max-age=86400"
PRIVATE_CACHE = "private, max-age=3600"


async def answer(
    request: Request,
    key: str,
    *,
    public: bool,
    content_type: str | None = None,
    download_name: str | None = None,
    cache_control: str | None = None,
) -> Response:
    """The file at `key` (already checked: public, or one the caller may have), or 404.

    `public`: anyone may have it (served from the public URL with object storage). `download_name`: have
    the browser save the file under this name. `cache_control`: for a file served from this disk.
    """
    store = get_storage()
    try:
        if store.name == "local":
            cache = cache_control or (PUBLIC_CACHE if public else PRIVATE_CACHE)
            return await _from_disk(
                request, store.stat(key), cache_control=cache, content_type=content_type, download_name=download_name
            )
        return _redirect(request, store, key, public=public, download_name=download_name)
    except InvalidKey:
        raise NotFound("No such file.") from None


async def _from_disk(
    request: Request,
    stored: StoredFile | None,
    *,
    cache_control: str,
    content_type: str | None,
    download_name: str | None,
) -> Response:
    if stored is None:
        raise NotFound("No such file.")
    if content_type:
        stored = replace(stored, content_type=content_type)
    response = await serve_file(request, stored, cache_control=cache_control)
    if download_name:
        response.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _redirect(request: Request, store, key: str, *, public: bool, download_name: str | None) -> Response:
    method = "HEAD" if request.method == "HEAD" else "GET"
    if public and not download_name:
        url = store.public_url(key, method=method)
        cache = "public, max-age=3600"  # well within the public URL's lifetime
    else:
        url = store.presigned_url(key, method=method, download_name=download_name)
        # The redirect may be reused only while the URL it points to still works.
        cache = f"private, max-age={min(300, store.presign_seconds // 2)}" if not download_name else "no-store"
    return Redirect(url, status_code=302, headers={"Cache-Control": cache})
