"""validate_image: only real JPEG/PNG/WebP pictures pass, within size and pixel limits, without metadata."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.media.images import MAX_PIXELS, validate_image

MB = 1024 * 1024


def _picture(fmt: str, size=(64, 48), mode="RGB", **save) -> bytes:
    image = Image.new(mode, size, (200, 30, 60) if mode == "RGB" else None)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def _with_exif(orientation: int = 1) -> bytes:
    image = Image.new("RGB", (80, 40), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("JPEG", "image/jpeg", ".jpg"), ("PNG", "image/png", ".png"), ("WEBP", "image/webp", ".webp")],
)
def test_accepts_each_supported_format(fmt, content_type, extension):
    result = validate_image(_picture(fmt), 10 * MB)
    assert (result.width, result.height, result.format) == (64, 48, fmt)
    assert result.content_type == content_type and result.extension == extension
    reopened = Image.open(io.BytesIO(result.clean_bytes))
    assert reopened.format == fmt and reopened.size == (64, 48)


def test_strips_exif_and_gps_but_keeps_the_picture_upright():
    data = _with_exif(orientation=6)  # "rotate 90° clockwise to display"
    assert b"SpyCam" in data
    result = validate_image(data, 10 * MB)
    assert b"SpyCam" not in result.clean_bytes
    cleaned = Image.open(io.BytesIO(result.clean_bytes))
    assert not cleaned.getexif()
    assert "exif" not in cleaned.info
    # The 80×40 picture displayed rotated is 40×80; it stays that way without its EXIF.
    assert (result.width, result.height) == (40, 80) == cleaned.size


def test_strips_png_text_chunks():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "someone@example.com")
    result = validate_image(_picture("PNG", pnginfo=info), 10 * MB)
    assert b"someone@example.com" not in result.clean_bytes


def test_keeps_transparency_in_png_and_webp():
    for fmt in ("PNG", "WEBP"):
        image = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
        out = io.BytesIO()
        image.save(out, fmt)
        cleaned = Image.open(io.BytesIO(validate_image(out.getvalue(), MB).clean_bytes))
        assert cleaned.mode == "RGBA" and cleaned.getpixel((5, 5))[3] == 0


def test_refuses_text_named_like_an_image():
    with pytest.raises(ValidationFailed) as error:
        validate_image(b"hello, I am definitely a PNG\n" * 10, 10 * MB)
    assert error.value.status_code == 422
    assert "not a JPEG, PNG or WebP" in error.value.detail


def test_refuses_other_image_formats():
    with pytest.raises(ValidationFailed, match="not a JPEG, PNG or WebP"):
        validate_image(_picture("GIF", mode="P"), 10 * MB)
    with pytest.raises(ValidationFailed, match="not a JPEG, PNG or WebP"):
        validate_image(_picture("BMP"), 10 * MB)


def test_refuses_empty_and_oversized_files():
    with pytest.raises(ValidationFailed, match="empty"):
        validate_image(b"", MB)
    big = _picture("PNG", size=(900, 900), mode="RGB")
    with pytest.raises(ValidationFailed) as error:
        validate_image(big, len(big) - 1)
    assert error.value.status_code == 413 and error.value.code == "file_too_large"


def test_refuses_truncated_images():
    data = _picture("JPEG", size=(400, 300))
    with pytest.raises(ValidationFailed, match="damaged"):
        validate_image(data[: len(data) // 2], 10 * MB)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions (a decompression bomb needs no more than this to be dangerous)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(8000, 6000), (20000, 20000), (60000, 60000)])
def test_refuses_too_many_pixels_without_decoding(size):
    assert size[0] * size[1] > MAX_PIXELS
    with pytest.raises(ValidationFailed) as error:
        validate_image(_png_header_only(*size), 10 * MB)
    assert error.value.code == "image_too_large"
    assert "megapixels" in error.value.detail
