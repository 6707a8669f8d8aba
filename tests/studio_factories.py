"""Images and rows the studio tests need: real encoded files made with Pillow, users, videos with stored media."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from app.accounts.tokens import issue_pair
from app.media.storage import get_storage, new_key
from app.tables import Uploads, VideoEvents, Videos
from tests.billing_factories import make_user


def jpeg(width: int = 640, height: int = 360, colour=(200, 80, 40), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), colour)
    image.save(out, "JPEG", quality=85, **({"exif": exif} if exif else {}))
    return out.getvalue()


def png(width: int = 320, height: int = 320) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def webp(width: int = 400, height: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 160, 90)).save(out, "WEBP")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (64, 64), 3).save(out, "GIF")
    return out.getvalue()


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>'


def huge_png(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny file that claims 400 megapixels: a valid PNG header and one compressed block of zero rows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * width
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def gps_exif() -> bytes:
    """EXIF with a GPS position (Paris) and a camera model, as a phone would write it."""
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone 3000"  # Model
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPSInfo
    return exif.tobytes()


async def bearer(user_id: int) -> dict[str, str]:
    pair = await issue_pair(user_id)
    return {"Authorization": f"Bearer {pair.access_token}"}


async def sign_in(client, user) -> None:
    await client.set_session_data({"user_id": user.id})


async def csrf(client) -> dict[str, str]:
    await client.get("/pricing")
    return {"x-csrftoken": client.cookies.get("csrftoken")}


async def make_upload(user_id: int, data: bytes | None = None) -> Uploads:
    data = data or jpeg()
    key = new_key("uploads", ".jpg")
    get_storage().save_bytes(key, data)
    row = Uploads(
        user=user_id,
        storage_key=key,
        content_type="image/jpeg",
        width=640,
        height=360,
        bytes=len(data),
        sha256="0" * 64,
    )
    await row.save()
    return row


async def make_video(
    user_id: int,
    *,
    status: str = "completed",
    body: bytes | None = None,
    prompt: str = "A shoe on a beach",
    model: str = "sora-2",
    events: list[tuple[str, str, int]] | None = None,
    **columns,
) -> Videos:
    """A video row; a completed one gets a stored MP4 body and poster under random keys."""
    video_key = poster_key = None
    if status == "completed":
        video_key = new_key("videos", ".mp4")
        poster_key = new_key("posters", ".webp")
        get_storage().save_bytes(video_key, body if body is not None else bytes(range(256)) * 40)
        get_storage().save_bytes(poster_key, webp(128, 72))
    defaults = {
        "step": "completed" if status == "completed" else "queued",
        "progress": 100 if status == "completed" else 0,
    }
    defaults["resolution"] = "1280x720"
    video = Videos(
        user=user_id,
        prompt=prompt,
        model=model,
        duration=4,
        status=status,
        video_key=video_key,
        poster_key=poster_key,
        **{**defaults, **columns},
    )
    await video.save()
    for step, message, progress in events or []:
        await VideoEvents(video=video.id, step=step, message=message, progress=progress).save()
    return video
