"""Image validation for every upload: decode with Pillow, refuse what is not a sane JPEG/PNG/WebP, and
re-encode so no metadata (EXIF, GPS, XMP, JPEG COM comments, PNG text) survives.

`validate_image(data, max_bytes)` is the one entry point; it raises `ValidationFailed` with a message a
person understands and never lets a Pillow error escape.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ValidationFailed

MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "WEBP")
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


@dataclass(frozen=True)
class ValidatedImage:
    width: int
    height: int
    format: str  # "JPEG" | "PNG" | "WEBP"
    content_type: str
    clean_bytes: bytes

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _open(data: bytes) -> Image.Image:
    """Decode fully, treating Pillow's decompression-bomb warning as the error it is for us."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed(
                    f"The image is {width}×{height} pixels; the most we accept is {MAX_PIXELS // 1_000_000} megapixels.",
                    code="image_too_large",
                )
            image.load()
        except ValidationFailed:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationFailed(
                f"The image has too many pixels; the most we accept is {MAX_PIXELS // 1_000_000} megapixels.",
                code="image_too_large",
            ) from None
        except UnidentifiedImageError:
            raise ValidationFailed("That file is not a JPEG, PNG or WebP image.", code="unsupported_image") from None
        except (OSError, SyntaxError, ValueError):
            raise ValidationFailed(
                "The image could not be read; the file may be damaged.", code="damaged_image"
            ) from None
    return image


def _encode(image: Image.Image, fmt: str, icc: bytes | None) -> bytes:
    """Re-encode without metadata; only the colour profile is kept, because it changes how the picture looks."""
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=92, optimize=True, icc_profile=icc)
    elif fmt == "PNG":
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True, icc_profile=icc)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode or image.mode == "P" else "RGB")
        image.save(out, "WEBP", quality=90, icc_profile=icc)
    return out.getvalue()


def validate_image(data: bytes, max_bytes: int) -> ValidatedImage:
    """Check `data` is a JPEG, PNG or WebP of at most `max_bytes` and 40 megapixels; return it cleaned.

    The picture is turned upright according to its EXIF orientation before the metadata is dropped, so it
    looks the same as before. Animated images keep their first frame.
    """
    if not data:
        raise ValidationFailed("The file is empty.", code="empty_file")
    if len(data) > max_bytes:
        raise ValidationFailed(
            f"The file is {_megabytes(len(data))}; the most we accept is {_megabytes(max_bytes)}.",
            code="file_too_large",
            status_code=413,
        )
    image = _open(data)
    fmt = image.format or ""
    if fmt not in FORMATS:  # pragma: no cover - Image.open(formats=...) already refuses others
        raise ValidationFailed("That file is not a JPEG, PNG or WebP image.", code="unsupported_image")
    try:
        upright = ImageOps.exif_transpose(image) or image
        icc = image.info.get("icc_profile")
        # Pillow writes back what `info` holds (JPEG COM comments, EXIF, XMP, PNG text): start from none.
        upright.info = {}
        clean = _encode(upright, fmt, icc)
    except (OSError, ValueError):
        raise ValidationFailed("The image could not be read; the file may be damaged.", code="damaged_image") from None
    return ValidatedImage(
        width=upright.width,
        height=upright.height,
        format=fmt,
        content_type=CONTENT_TYPES[fmt],
        clean_bytes=clean,
    )
