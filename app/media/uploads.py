"""Reference-image uploads: validate (Pillow decode, size, pixels, metadata stripped), store under a random key,
record who owns it; and warnings when the picture's shape is far from the video's or it is much smaller."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.config import get_settings
from app.errors import ValidationFailed
from app.media import storage
from app.media.cpu import run_cpu
from app.media.images import ValidatedImage, validate_image
from app.media.storage import media_url, new_key
from app.tables import Uploads

# How far (as a ratio of aspect ratios) a picture may be from the output before we warn it will be cropped.
CROP_TOLERANCE = 1.15
# From this much enlargement on, a picture looks visibly soft in the video.
UPSCALE_WARNING = 2.0


@dataclass(frozen=True)
class UploadInfo:
    """What the API and the studio show about an upload (or, for `validate`, about a file not stored)."""

    id: int | None
    url: str | None
    width: int
    height: int
    content_type: str
    bytes: int
    warning: str | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "url": self.url,
            "width": self.width,
            "height": self.height,
            "content_type": self.content_type,
            "bytes": self.bytes,
            "warning": self.warning,
        }


def parse_size(size: str | None) -> tuple[int, int] | None:
    """(width, height) of a "WxH" size, or None when absent or not of that shape."""
    if not size:
        return None
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or not int(width) or not int(height):
        return None
    return int(width), int(height)


def _shape(width: int, height: int) -> str:
    ratio = width / height
    if abs(ratio - 1) < 0.05:
        return "square"
    return "landscape" if ratio > 1 else "portrait"


def crop_warning(width: int, height: int, size: str | None) -> str | None:
    """A sentence when an image of width×height would be noticeably cropped to fill `size`."""
    target = parse_size(size)
    if target is None or not width or not height:
        return None
    ratio = (width / height) / (target[0] / target[1])
    if 1 / CROP_TOLERANCE <= ratio <= CROP_TOLERANCE:
        return None
    return (
        f"This {_shape(width, height)} image ({width}×{height}) will be cropped to fit the "
        f"{_shape(*target)} {target[0]}×{target[1]} video."
    )


def small_warning(width: int, height: int, size: str | None) -> str | None:
    """A sentence when an image of width×height must be enlarged a lot to fill `size`."""
    target = parse_size(size)
    if target is None or not width or not height:
        return None
    scale = max(target[0] / width, target[1] / height)
    if scale < UPSCALE_WARNING:
        return None
    return (
        f"This image is small: it will be enlarged about {round(scale)}× to fill the "
        f"{target[0]}×{target[1]} video and may look soft. A photo at least that size works best."
    )


def image_warning(width: int, height: int, size: str | None) -> str | None:
    """What the studio and the API say about using this image for a video of `size` (None: nothing)."""
    sentences = [w for w in (crop_warning(width, height, size), small_warning(width, height, size)) if w]
    return " ".join(sentences) or None


def check(data: bytes) -> ValidatedImage:
    """Validate an uploaded file against the configured limits; ValidationFailed (4xx) says what is wrong."""
    return validate_image(data, get_settings().max_upload_bytes)


def describe(data: bytes, size: str | None = None) -> UploadInfo:
    """Validate without storing anything (the `validate` endpoint)."""
    image = check(data)
    return UploadInfo(
        id=None,
        url=None,
        width=image.width,
        height=image.height,
        content_type=image.content_type,
        bytes=len(image.clean_bytes),
        warning=image_warning(image.width, image.height, size),
    )


def _info(row: Uploads, size: str | None) -> UploadInfo:
    return UploadInfo(
        id=row.id,
        url=media_url(row.storage_key),
        width=row.width,
        height=row.height,
        content_type=row.content_type,
        bytes=row.bytes,
        warning=image_warning(row.width, row.height, size),
    )


async def save(user_id: int, data: bytes, size: str | None = None) -> UploadInfo:
    """Validate, store the cleaned image under a fresh random key and record it for `user_id`.

    The same picture uploaded again by the same person gives back the upload they already have.
    """
    image = await run_cpu(check, data)
    digest = hashlib.sha256(image.clean_bytes).hexdigest()
    existing = await Uploads.objects().where((Uploads.user == user_id) & (Uploads.sha256 == digest)).first()
    if existing is not None and await storage.aexists(existing.storage_key):
        return _info(existing, size)
    key = new_key("uploads", image.extension)
    await storage.asave_bytes(key, image.clean_bytes, image.content_type)
    try:
        row = Uploads(
            user=user_id,
            storage_key=key,
            content_type=image.content_type,
            width=image.width,
            height=image.height,
            bytes=len(image.clean_bytes),
            sha256=digest,
        )
        await row.save()
    except Exception:
        await storage.adelete(key)  # never leave a file nobody owns
        raise
    return _info(row, size)


async def get_for_user(user_id: int, upload_id: int) -> Uploads | None:
    """The upload if it is `user_id`'s; None otherwise (someone else's looks the same as a missing one)."""
    return await Uploads.objects().where((Uploads.id == upload_id) & (Uploads.user == user_id)).first()


async def info_for_user(user_id: int, upload_id: int, size: str | None = None) -> UploadInfo | None:
    row = await get_for_user(user_id, upload_id)
    return _info(row, size) if row else None


def require_file(data: bytes | None) -> bytes:
    """The file's bytes; 422 when the request had no file at all (an empty file is refused by validation)."""
    if data is None:
        raise ValidationFailed("Choose an image file to upload (JPEG, PNG or WebP).", code="file_missing")
    return data
