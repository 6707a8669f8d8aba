"""The generation pipeline (see app/videos/README.md): one video from `pending` to a stored MP4, or to a refunded failure.

Seven steps, each a `video_events` row and a published progress event:
1 queued (written when the video is made) · 2 preparing the reference image · 3 submitting ·
4 waiting in the provider's queue · 5 generating (provider %) · 6 downloading video and poster ·
7 completed, or failed with the reason and the refund.

Safe to run again and to run twice at once: every state change is a conditional UPDATE fenced by
the video's `charge_seq`, so only one copy submits, one downloads, one completes, one refunds. A
copy that finds the job id already stored resumes polling that job instead of paying for another.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

from app.billing import charges
from app.config import get_settings
from app.db import is_postgres
from app.errors import AppError
from app.finishing import jobs as finishing_jobs
from app.media import cpu, storage
from app.media.storage import StorageError
from app.notifications import outcomes
from app.ops import observe
from app.providers import registry
from app.providers.base import (
    GenerationRequest,
    JobStatus,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    VideoProvider,
)
from app.tables import (
    ACTIVE_STATUSES,
    TrialImages,
    Uploads,
    VideoEvents,
    Videos,
    VideoStatus,
)
from app.videos import progress, slots

log = logging.getLogger("adsvideo.generation")

T = TypeVar("T")

# Overall progress (0–100) when each step starts; generating spreads the provider's % over 20–90.
STEP_PROGRESS = {
    "queued": 0,
    "preparing": 5,
    "submitting": 10,
    "waiting": 15,
    "generating": 20,
    "downloading": 92,
    "completed": 100,
}
MAX_RETRIES = 3

EXHAUSTED_MESSAGE = "The video service kept failing, even after several tries. Please try again later."
TIMEOUT_MESSAGE = "The video service took too long to make this video, so we stopped waiting."
REFERENCE_GONE_MESSAGE = "The reference image was deleted before the video could be made."
REFERENCE_BROKEN_MESSAGE = "The reference image could not be read as a picture."
# Failures of the service rather than of the request: trying the same again may work.
TRANSIENT_FAILURES = frozenset({EXHAUSTED_MESSAGE, TIMEOUT_MESSAGE})
EMPTY_DOWNLOAD = "The video service sent an empty file."
STORAGE_BUSY = "Our file storage is not answering right now; we'll keep trying."


class Stop(Exception):
    """This copy must stop quietly: the video was finished, deleted or retried by someone else."""


class HandBack(Exception):
    """This worker is shutting down: the job goes back to the queue and resumes on another worker."""


# Set while this process's worker shuts down: a job waiting on the provider is handed back rather than
# cut off; a step already moving files (downloading into storage) finishes first.
draining = threading.Event()


class JobFailed(Exception):
    """The video cannot be made; the message is for the user."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass
class Job:
    """What one run knows about its video; `charge_seq` fences every update to this charge's run."""

    video_id: int
    user_id: int
    charge_seq: int
    model: str
    prompt: str
    duration: int
    resolution: str
    provider_job_id: str | None
    audio: bool = False

    @classmethod
    def of(cls, row: Videos) -> Job:
        return cls(
            row.id,
            row.user,
            row.charge_seq,
            row.model,
            row.prompt,
            row.duration,
            row.resolution,
            row.provider_job_id,
            bool(row.audio),
        )

    @property
    def size(self) -> tuple[int, int]:
        width, height = self.resolution.split("x")
        return int(width), int(height)


def _now() -> datetime:
    return datetime.now(UTC)


def _stale_cutoff() -> datetime:
    return _now() - timedelta(seconds=get_settings().job_stale_seconds)


def _mine(job: Job):
    """Rows this run may still change: the same charge, not yet finished."""
    return (
        (Videos.id == job.video_id) & (Videos.charge_seq == job.charge_seq) & Videos.status.is_in(list(ACTIVE_STATUSES))
    )


async def _publish(job: Job, event_id: int, step: str, status: str, value: int, message: str, done: bool) -> None:
    await progress.publish(
        job.video_id,
        job.user_id,
        {
            "video_id": job.video_id,
            "event_id": event_id,
            "step": step,
            "status": status,
            "progress": value,
            "message": message,
            "done": done,
        },
    )


async def _advance(
    job: Job, step: str, message: str, value: int, *, where=None, extra: dict | None = None, durable: bool = True
) -> bool:
    """Move the video to `step` and log it, if the row still matches; False when another copy got there first.

    `durable=False` for a step that only shows progress: PostgreSQL acknowledges its commit without waiting
    for the disk. Only a database crash can lose it, and that leaves the row at an earlier step, which a
    resumed run moves on from (the later durable commit of this run writes it out anyway).
    """
    condition = _mine(job) if where is None else _mine(job) & where
    engine = Videos._meta.db
    async with engine.transaction():
        if not durable and is_postgres(engine):
            await engine.run_ddl("SET LOCAL synchronous_commit = off")
        rows = (
            await Videos.update(
                {
                    Videos.step: step,
                    Videos.progress: value,
                    Videos.status: VideoStatus.processing.value,
                    **(extra or {}),
                }
            )
            .where(condition)
            .returning(Videos.id)
        )
        if not rows:
            return False
        event = await VideoEvents.insert(
            VideoEvents(video=job.video_id, step=step, message=message, progress=value)
        ).returning(VideoEvents.id)
    log.info("video %s: %s", job.video_id, step, extra={"step": step, "progress": value})
    await _publish(job, event[0]["id"], step, VideoStatus.processing.value, value, message, False)
    return True


async def _ensure_mine(job: Job) -> None:
    """Raise Stop unless this run's charge is still being made."""
    if not await Videos.exists().where(_mine(job)):
        raise Stop()


async def _heartbeat(job: Job) -> None:
    """Tell the reconciler this job is alive (and stop if it is no longer ours)."""
    rows = await Videos.update({Videos.updated_at: _now()}).where(_mine(job)).returning(Videos.id)
    if not rows:
        raise Stop()


def _beat_every() -> float:
    """Seconds between heartbeats: well inside `job_stale_seconds`."""
    return min(get_settings().job_stale_seconds / 3, 10.0)


@asynccontextmanager
async def _kept_alive(job: Job) -> AsyncIterator[None]:
    """Heartbeat while a call that may outlast `job_stale_seconds` runs (a submit, a download), so the
    reconciler never takes the job for dead and starts a second copy of it."""
    done = asyncio.Event()

    async def beat() -> None:
        every = _beat_every()
        while True:
            try:
                await asyncio.wait_for(done.wait(), every)
                return
            except TimeoutError:
                pass
            try:
                await _heartbeat(job)
            except Stop:
                return  # the call's own outcome tells the run what to do
            except Exception as exc:  # a database hiccup: the next beat may get through
                log.warning("video %s: heartbeat failed: %s", job.video_id, exc)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        done.set()
        await beating


async def _spend_retry(job: Job) -> int | None:
    """Count one retry against the job's budget; None when the budget is spent."""
    rows = (
        await Videos.update({Videos.attempts: Videos.attempts + 1})
        .where(_mine(job) & (Videos.attempts < MAX_RETRIES))
        .returning(Videos.attempts)
    )
    if rows:
        return rows[0]["attempts"]
    await _ensure_mine(job)
    return None


async def _with_retries(job: Job, what: str, call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, retried after transient errors with exponential backoff (or the provider's retry-after)."""
    backoff = get_settings().job_retry_backoff_seconds
    while True:
        try:
            return await call()
        except TransientProviderError as exc:
            attempt = await _spend_retry(job)
            if attempt is None:
                log.warning("video %s: %s failed and no retries are left: %s", job.video_id, what, exc)
                raise JobFailed(EXHAUSTED_MESSAGE) from exc
            delay = max(backoff * 2 ** (attempt - 1), exc.retry_after or 0.0)
            log.info("video %s: %s failed (%s); retry %d in %.2fs", job.video_id, what, exc, attempt, delay)
            await asyncio.sleep(delay)
            await _heartbeat(job)


async def _fail(job: Job, reason: str) -> None:
    """Mark the video failed and refund its charge, both at most once."""
    async with Videos._meta.db.transaction():
        rows = (
            await Videos.update(
                {Videos.status: VideoStatus.failed.value, Videos.step: "failed", Videos.error_message: reason}
            )
            .where(_mine(job))
            .returning(Videos.progress, Videos.credits_charged, Videos.provider, Videos.model, Videos.created_at)
        )
        if not rows:
            return
        refunded = await charges.refund(job.video_id, job.charge_seq)
        credits = rows[0]["credits_charged"]
        message = f"{reason} Your {credits:,} credits were refunded." if refunded and credits else reason
        value = rows[0]["progress"]
        event = await VideoEvents.insert(
            VideoEvents(video=job.video_id, step="failed", message=message, progress=value)
        ).returning(VideoEvents.id)
    observe.generation_finished(rows[0]["provider"], rows[0]["model"], "failed", rows[0]["created_at"])
    log.info("video %s: failed: %s", job.video_id, reason)
    await outcomes.video_finished(job.video_id, refunded=credits if refunded else 0)
    await _publish(job, event[0]["id"], "failed", VideoStatus.failed.value, value, message, True)
    await finishing_jobs.cancel_waiting(job.video_id)


# Step 2: the reference image, exactly the output size.


async def _reference_source(job: Job, row: Videos) -> bytes | None:
    """The original reference image's bytes (never modified), or None without one."""
    key = None
    if row.reference_upload:
        upload = await Uploads.select(Uploads.storage_key).where(Uploads.id == row.reference_upload).first()
        key = upload["storage_key"] if upload else None
    elif row.reference_trial_image:
        trial = (
            await TrialImages.select(TrialImages.storage_key).where(TrialImages.id == row.reference_trial_image).first()
        )
        key = trial["storage_key"] if trial else None
    elif not row.reference_image_url:
        return None
    if not key:
        raise JobFailed(REFERENCE_GONE_MESSAGE)

    async def read() -> bytes:
        try:
            return await asyncio.to_thread(storage.get_storage().read_bytes, key)
        except StorageError as exc:
            raise TransientProviderError(f"storage read of {key} failed: {exc}", user_message=STORAGE_BUSY) from exc

    try:
        return await _with_retries(job, "read of the reference image", read)
    except (OSError, storage.InvalidKey):
        raise JobFailed(REFERENCE_GONE_MESSAGE) from None


def fit_reference(data: bytes, width: int, height: int) -> bytes:
    """The picture upright (EXIF orientation applied), scaled to cover `width`×`height`, centre-cropped, as JPEG."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        raise JobFailed(REFERENCE_BROKEN_MESSAGE) from None
    fitted = ImageOps.fit(upright, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    out = io.BytesIO()
    fitted.save(out, format="JPEG", quality=92)
    return out.getvalue()


# Steps 4–5: polling.


async def _submitted_at(job: Job) -> datetime:
    """When this charge's provider job was accepted (the deadline counts from there)."""
    row = (
        await VideoEvents.select(VideoEvents.created_at)
        .where((VideoEvents.video == job.video_id) & (VideoEvents.step == "waiting"))
        .order_by(VideoEvents.id, ascending=False)
        .first()
    )
    return row["created_at"] if row else _now()


def _generating_value(status: JobStatus) -> int:
    return STEP_PROGRESS["generating"] + (status.progress * 70) // 100


async def _poll(job: Job, provider: VideoProvider, submitted_at: datetime | None = None) -> None:
    """Ask the provider until the job is done; record steps 4–5 as they happen; JobFailed if it failed.

    `submitted_at`: when this run submitted the job itself (otherwise it is read from the events)."""
    settings = get_settings()
    deadline = (submitted_at or await _submitted_at(job)).timestamp() + settings.job_timeout_seconds
    beat_every = _beat_every()
    last_beat = time.monotonic()
    while True:
        status = await _with_retries(job, "status", lambda: provider.status(job.provider_job_id))
        if status.state == "failed":
            raise JobFailed(status.error_message or "The video service could not make this video.")
        if status.state in ("in_progress", "completed"):
            value = _generating_value(status) if status.state == "in_progress" else 90
            shown = status.progress if status.state == "in_progress" else 100
            await _advance(
                job,
                "generating",
                f"Generating the video: {shown}%.",
                value,
                where=Videos.step.is_in(["waiting", "generating"]) & (Videos.progress < value),
                durable=False,
            )
        if status.state == "completed":
            return
        if time.time() > deadline:
            await provider.cancel(job.provider_job_id)
            raise JobFailed(TIMEOUT_MESSAGE)
        if draining.is_set():
            raise HandBack()
        if time.monotonic() - last_beat >= beat_every:
            await _heartbeat(job)
            last_beat = time.monotonic()
        await asyncio.sleep(settings.job_poll_interval_seconds)


# Step 6–7: download into storage, then complete.


async def _download(job: Job, provider: VideoProvider, variant: str, prefix: str, extension: str) -> str:
    """Fetch one variant into a work file, then stream it into storage under a fresh key; returns the key.

    Each half is retried on its own: a failed upload to storage does not download the video again.
    """
    store = storage.get_storage()
    key = storage.new_key(prefix, extension)
    with storage.work_file(extension) as tmp:

        async def fetch() -> int:
            written = await provider.download(job.provider_job_id, variant, tmp)
            if written <= 0:
                raise TransientProviderError(f"empty {variant} for {job.provider_job_id}", user_message=EMPTY_DOWNLOAD)
            return written

        async def upload() -> None:
            try:
                await asyncio.to_thread(store.save_file, key, tmp)
            except StorageError as exc:
                raise TransientProviderError(
                    f"storage upload of the {variant} failed: {exc}", user_message=STORAGE_BUSY
                ) from exc

        await _with_retries(job, f"download of the {variant}", fetch)
        await _with_retries(job, f"upload of the {variant} to storage", upload)
    return key


async def _forget(*keys: str | None) -> None:
    """Delete stored objects nobody will point to (best effort: an orphan is only wasted space)."""
    store = storage.get_storage()
    for key in keys:
        if key:
            try:
                await asyncio.to_thread(store.delete, key)
            except StorageError as exc:
                log.warning("could not delete %s from storage: %s", key, exc)


async def _complete(job: Job, provider: VideoProvider, takeover: bool) -> None:
    # A download left half-done is taken over only when its run died.
    dead = Videos.id == job.video_id if takeover else Videos.updated_at < _stale_cutoff()
    resumable = Videos.step.is_in(["waiting", "generating"]) | ((Videos.step == "downloading") & dead)
    if not await _advance(
        job,
        "downloading",
        "Downloading the video and its poster.",
        STEP_PROGRESS["downloading"],
        where=resumable,
        durable=False,
    ):
        return  # another copy is downloading it
    async with _kept_alive(job):
        video_key = await _download(job, provider, "video", "videos", ".mp4")
        try:
            poster_key: str | None = await _download(job, provider, "thumbnail", "posters", ".webp")
        except (JobFailed, PermanentProviderError) as exc:
            log.warning("video %s: no poster (%s)", job.video_id, exc)
            poster_key = None
        except BaseException:
            await _forget(video_key)
            raise
    message = "Your video is ready."
    async with Videos._meta.db.transaction():
        rows = (
            await Videos.update(
                {
                    Videos.status: VideoStatus.completed.value,
                    Videos.step: "completed",
                    Videos.progress: 100,
                    Videos.video_key: video_key,
                    Videos.poster_key: poster_key,
                    Videos.video_url: storage.media_url(video_key),
                    Videos.poster_url: storage.media_url(poster_key),
                    Videos.completed_at: _now(),
                }
            )
            .where(_mine(job) & (Videos.step == "downloading"))
            .returning(Videos.id, Videos.provider, Videos.model, Videos.created_at)
        )
        if rows:
            event = await VideoEvents.insert(
                VideoEvents(video=job.video_id, step="completed", message=message, progress=100)
            ).returning(VideoEvents.id)
    if not rows:  # deleted, or finished by another copy, while we downloaded
        await _forget(video_key, poster_key)
        raise Stop()
    observe.generation_finished(rows[0]["provider"], rows[0]["model"], "completed", rows[0]["created_at"])
    log.info("video %s: completed", job.video_id)
    await outcomes.video_finished(job.video_id)
    await _publish(job, event[0]["id"], "completed", VideoStatus.completed.value, 100, message, True)
    await finishing_jobs.start_waiting(job.video_id)  # an ad asked for with the generation starts now


# Steps 2–4: prepare and submit, once.


async def _start(job: Job, row: Videos, provider: VideoProvider, takeover: bool) -> bool:
    """Prepare the reference and submit; False when another copy is already doing it."""
    has_reference = bool(row.reference_upload or row.reference_trial_image or row.reference_image_url)
    width, height = job.size
    message = (
        f"Preparing the reference image at {width}×{height}."
        if has_reference
        else "No reference image: the video is made from the description alone."
    )
    # A queued video is free to start; one left half-started is taken over only when its run died.
    free = Videos.id == job.video_id if takeover else (Videos.step == "queued") | (Videos.updated_at < _stale_cutoff())
    claimable = Videos.provider_job_id.is_null() & free
    if not await _advance(job, "preparing", message, STEP_PROGRESS["preparing"], where=claimable, durable=False):
        return False
    reference = None
    source = await _reference_source(job, row)
    if source is not None:
        reference = await cpu.run_cpu(fit_reference, source, width, height)
    name = next((m.name for m in provider.models() if m.id == job.model), job.model)
    if not await _advance(
        job,
        "submitting",
        f"Sending the job to {name}.",
        STEP_PROGRESS["submitting"],
        where=Videos.step == "preparing",
        durable=False,
    ):
        raise Stop()
    request = GenerationRequest(
        model=job.model,
        prompt=job.prompt,
        seconds=job.duration,
        size=job.resolution,
        reference_image=reference,
        reference_content_type="image/jpeg" if reference else None,
        audio=bool(job.audio),
    )
    async with _kept_alive(job):
        job_id = await _with_retries(job, "submit", lambda: provider.submit(request))
    stored = await _advance(
        job,
        "waiting",
        f"{name} accepted the job; waiting in its queue.",
        STEP_PROGRESS["waiting"],
        where=Videos.provider_job_id.is_null(),
        extra={Videos.provider_job_id: job_id},
    )
    if not stored:  # only after a stale takeover raced us: keep theirs, drop ours
        await provider.cancel(job_id)
        raise Stop()
    job.provider_job_id = job_id
    return True


async def _wait_for_slot(job: Job) -> None:
    """Every slot of the user's plan is taken: say so on the video (once) and wait to be queued again."""
    busy, cap = await slots.in_flight(job.user_id), await slots.cap_for(job.user_id)
    message = slots.waiting_message(busy, cap)
    last = (
        await VideoEvents.select(VideoEvents.message)
        .where(VideoEvents.video == job.video_id)
        .order_by(VideoEvents.id, ascending=False)
        .first()
    )
    if last and last["message"].startswith(slots.WAITING):
        await Videos.update({Videos.updated_at: _now()}).where(_mine(job) & (Videos.step == "queued"))
        return
    async with Videos._meta.db.transaction():
        rows = (
            await Videos.update({Videos.updated_at: _now()})
            .where(_mine(job) & (Videos.step == "queued") & Videos.provider_job_id.is_null())
            .returning(Videos.status, Videos.progress)
        )
        if not rows:
            return
        event = await VideoEvents.insert(
            VideoEvents(video=job.video_id, step="queued", message=message, progress=rows[0]["progress"])
        ).returning(VideoEvents.id)
    await _publish(job, event[0]["id"], "queued", rows[0]["status"], rows[0]["progress"], message, False)


async def _release_if_finished(video_id: int) -> None:
    if not await Videos.exists().where((Videos.id == video_id) & Videos.status.is_in(list(ACTIVE_STATUSES))):
        await slots.release(slots.VIDEO, video_id)


async def run(video_id: int, *, takeover: bool = False) -> None:
    """Make (or keep making) video `video_id`. `takeover` comes from the reconciler: the last run died.

    Raises HandBack when the worker is shutting down before the job is done (the caller re-enqueues it:
    the next run resumes the same provider job, so nothing is submitted or charged twice).
    """
    row = await Videos.objects().where(Videos.id == video_id).first()
    if row is None or row.status not in ACTIVE_STATUSES:
        return  # deleted, completed or failed: nothing to do
    job = Job.of(row)
    if draining.is_set():
        raise HandBack()
    log.info(
        "video %s: working on it in process %d (step %s%s)",
        video_id,
        os.getpid(),
        row.step,
        ", taking over" if takeover else "",
    )
    try:
        try:
            provider = observe.ObservedProvider(registry.get_provider(job.model), job.model)
        except AppError as exc:
            raise JobFailed(exc.detail) from None
        submitted_at = None
        if not job.provider_job_id:
            # The plan's cap on jobs in flight: without a free slot the video waits in our queue.
            if not await slots.acquire(job.user_id, slots.VIDEO, job.video_id):
                await _wait_for_slot(job)
                return
            if not await _start(job, row, provider, takeover):
                return
            submitted_at = _now()
        await _poll(job, provider, submitted_at)
        await _complete(job, provider, takeover)
    except Stop:
        log.info("video %s: stopped (finished, deleted or retried elsewhere)", video_id)
    except JobFailed as exc:
        await _fail(job, exc.user_message)
    except ProviderError as exc:
        if isinstance(exc, TransientProviderError):
            raise
        log.info("video %s: permanent provider error: %s", video_id, exc)
        await _fail(job, exc.user_message)
    finally:
        await _release_if_finished(video_id)
