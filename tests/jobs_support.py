"""What the generation-job tests share: fast job settings, users with API tokens, waiting, the emulator's job count."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import warnings

import dramatiq
import openai
from PIL import Image

from app.accounts import tokens
from app.media import storage
from app.tables import CreditTransactions, Uploads, VideoEvents, Videos
from tests.billing_factories import make_user

FAST_JOBS = {
    "JOB_POLL_INTERVAL_SECONDS": "0.05",
    "JOB_RETRY_BACKOFF_SECONDS": "0.05",
    "RECONCILE_INTERVAL_SECONDS": "0.2",
}
FINAL = ("completed", "failed")
STEPS = ["queued", "preparing", "submitting", "waiting", "generating", "downloading", "completed"]


def unique_prompt(text: str = "A red sneaker spinning on a sunny beach") -> str:
    """Emulator fault counters are per prompt, so every test gets its own."""
    return f"{text} #{uuid.uuid4().hex[:8]}"


async def api_user(credits: int = 1_000, plan: str = "basic", **kwargs):
    """A user on `plan` with `credits`, and the headers that sign the API in as them."""
    user = await make_user(credits=credits, plan=plan, **kwargs)
    pair = await tokens.issue_pair(user.id)
    return user, {"Authorization": f"Bearer {pair.access_token}"}


async def wait_for_final(video_id: int, timeout: float = 90.0) -> Videos:
    """The video once it is completed or failed (the timeout only stops a hung test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        video = await Videos.objects().where(Videos.id == video_id).first()
        if video is not None and video.status in FINAL:
            return video
        await asyncio.sleep(0.05)
    raise AssertionError(f"video {video_id} did not finish: {video.status if video else 'gone'}")


async def drain(queue_name: str = "default", timeout_ms: int = 60_000) -> None:
    """Wait until the broker holds no message on `queue_name`, queued or being worked on (a join, not a sleep)."""
    await asyncio.to_thread(dramatiq.get_broker().join, queue_name, timeout=timeout_ms)


async def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def slots_held(user_id: int, timeout: float = 30.0) -> int:
    """The user's job slots still held once they are all back, or at the timeout: a run gives its slot back
    just after it commits the end of its job, so a reader who saw that end may be a moment early."""
    from app.videos import slots

    deadline = time.monotonic() + timeout
    while (held := await slots.in_flight(user_id)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return held


async def steps_of(video_id: int) -> list[str]:
    rows = await VideoEvents.select(VideoEvents.step).where(VideoEvents.video == video_id).order_by(VideoEvents.id)
    return [r["step"] for r in rows]


def distinct_steps(steps: list[str]) -> list[str]:
    """The steps in order with repeats (progress updates of one step) folded."""
    out: list[str] = []
    for step in steps:
        if not out or out[-1] != step:
            out.append(step)
    return out


async def ledger_of(video_id: int) -> list[tuple[str, int, int]]:
    """(reason, delta, charge_seq) of every ledger row of a video, in order."""
    rows = (
        await CreditTransactions.select(
            CreditTransactions.reason, CreditTransactions.delta, CreditTransactions.charge_seq
        )
        .where(CreditTransactions.video == video_id)
        .order_by(CreditTransactions.id)
    )
    return [(r["reason"], r["delta"], r["charge_seq"]) for r in rows]


def provider_jobs(base_url: str, prompt: str) -> list:
    """The emulator's jobs for `prompt`, read through the real SDK."""
    client = openai.OpenAI(api_key="test", base_url=base_url, max_retries=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return [v for v in client.videos.list(limit=100) if v.prompt == prompt]
    finally:
        client.close()


def exif_rotated_jpeg(width: int = 900, height: int = 600) -> bytes:
    """A landscape JPEG whose EXIF says "rotate 90° clockwise to view": upright it is portrait.
    Its stored top half is red and bottom half blue."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width, height // 2))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    return out.getvalue()


async def make_upload(user_id: int, data: bytes | None = None) -> Uploads:
    """An upload of the user's, stored as the upload feature stores it."""
    data = data or exif_rotated_jpeg()
    key = storage.new_key("uploads", ".jpg")
    storage.get_storage().save_bytes(key, data)
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    upload = Uploads(
        user=user_id,
        storage_key=key,
        content_type="image/jpeg",
        width=width,
        height=height,
        bytes=len(data),
        sha256=uuid.uuid4().hex,
    )
    await upload.save()
    return upload
