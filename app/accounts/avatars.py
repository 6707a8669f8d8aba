"""Avatars live in our own storage: copied from Google at sign-in, or uploaded. A page never shows a
picture from an address a user chose (that would let anyone put a tracking pixel on the home page).

Each avatar is re-encoded to a 256×256 WebP (no metadata) under `public/avatars/`, through the storage
interface, so it works on every storage backend.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import secrets

import httpx
from PIL import Image, ImageOps

from app.errors import ValidationFailed
from app.media.cpu import run_cpu
from app.media.images import validate_image
from app.media.storage import get_storage, media_url

log = logging.getLogger("adsvideo.avatars")

PREFIX = "public/avatars"
SIDE = 256
MAX_BYTES = 5 * 1024 * 1024
FETCH_TIMEOUT = 5.0
_UPLOADED = re.compile(r"^u\d+-[0-9a-f]{16}\.webp$")


def _ours_prefix() -> str:
    return (media_url(f"{PREFIX}/x") or "")[:-1]


def is_ours(url: str | None) -> bool:
    """True for an avatar stored by us (the only kind a page may show)."""
    return bool(url) and url.startswith(_ours_prefix()) and ".." not in url


def shown(url: str | None) -> str | None:
    """The avatar URL to put in a page: ours, or none at all."""
    return url if is_ours(url) else None


def _square(data: bytes) -> bytes:
    """The picture validated (JPEG, PNG or WebP), upright, cropped square to SIDE px, as WebP."""
    image = validate_image(data, MAX_BYTES)
    with Image.open(io.BytesIO(image.clean_bytes)) as picture:
        square = ImageOps.fit(picture.convert("RGBA"), (SIDE, SIDE), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, "WEBP", quality=85)
    return out.getvalue()


async def store(user_id: int, data: bytes) -> str:
    """Store `data` as the user's avatar; its public URL. ValidationFailed (422) for a file that is no picture."""
    square = await run_cpu(_square, data)
    key = f"{PREFIX}/u{user_id}-{secrets.token_hex(8)}.webp"
    await asyncio.to_thread(get_storage().save_bytes, key, square)
    url = media_url(key)
    assert url is not None
    return url


def delete(url: str | None) -> None:
    """Remove a stored avatar's file (demo avatars shared by name are left alone)."""
    name = (url or "").rsplit("/", 1)[-1]
    if not is_ours(url) or not _UPLOADED.match(name):
        return
    key = f"{PREFIX}/{name}"
    try:
        get_storage().delete(key)
    except (OSError, ValueError) as exc:
        log.warning("could not delete avatar %s: %s", key, exc)


async def fetch(url: str) -> bytes | None:
    """The picture at `url` (Google's, at sign-in), at most MAX_BYTES; None when it cannot be had."""
    if not url.startswith(("https://", "http://")):
        return None
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=True, max_redirects=3) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    return None
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        return None
                    chunks.append(chunk)
                return b"".join(chunks)
    except httpx.HTTPError as exc:
        log.info("could not fetch the avatar at %s: %s", url, exc)
        return None


async def copy_from(user_id: int, url: str | None) -> str | None:
    """Our copy of the picture at `url`, or None (no picture, unreachable, or not an image)."""
    if not url:
        return None
    data = await fetch(url)
    if data is None:
        return None
    try:
        return await store(user_id, data)
    except ValidationFailed as exc:
        log.info("the avatar at %s is not a usable picture: %s", url, exc.detail)
        return None
