"""A user's videos: ask for one (checks, debit, queue), list, read, retry, delete. Always scoped to the owner."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import dramatiq
from redis.exceptions import RedisError

from app.billing import charges, model_catalogue, plans
from app.billing.ledger import InsufficientCreditsException
from app.billing.pricing import price_for
from app.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.finishing import jobs as finishing_jobs
from app.media import storage
from app.providers import registry
from app.providers.base import ModelInfo
from app.tables import (
    ACTIVE_STATUSES,
    TrialImages,
    Uploads,
    Users,
    VideoEvents,
    Videos,
    VideoStatus,
)
from app.videos import library, progress, slots
from app.videos.library import VideoPage, get_video

log = logging.getLogger("adsvideo.videos")
T = TypeVar("T")

MAX_PROMPT = 2_000
MAX_IDEMPOTENCY_KEY = 255
# Videos one request may ask for at once, and requests one batch may hold.
MAX_VARIATIONS = 4
MAX_BATCH = 20
QUEUED_MESSAGE = "Queued: waiting for a worker to pick the job up."
GENERATE_ACTOR = "generate_video"


class PlanDoesNotAllow(Forbidden):
    code = "plan_upgrade_required"
    default_detail = "Your plan does not include this model or size."
    fix = ("billing:pricing", "Compare plans")


@dataclass(frozen=True)
class ModelOffer:
    """A model as the studio and the API list it: what it makes, what each length costs, usable or why not."""

    id: str
    provider: str
    name: str
    durations: list[int]
    sizes: list[str]
    prices: dict[int, int]
    available: bool
    reason: str | None
    needs_reference_image: bool = False
    text_input: bool = True
    image_input: bool = True
    audio: bool = False
    sizes_by_ratio: dict[str, list[str]] | None = None
    plans: tuple[str, ...] = ()


def _prices(model: ModelInfo) -> dict[int, int]:
    prices = {}
    for seconds in model.durations:
        try:
            prices[seconds] = price_for(model.id, seconds)
        except ValidationFailed:
            continue  # a length we do not sell
    return prices


def list_models() -> list[ModelOffer]:
    """Every model of the catalogue, with its provider's availability; one we cannot sell or reach says why."""
    offers = []
    for model in registry.all_models():
        entry = model_catalogue.get(model.id)
        prices = _prices(model)
        durations = [d for d in model.durations if d in prices]
        available, reason = model.available, model.reason
        if available and not prices:
            available, reason = False, "This model has no price yet."
        offers.append(
            ModelOffer(
                model.id,
                model.provider,
                model.name,
                durations,
                list(model.sizes),
                prices,
                available,
                reason,
                model.needs_reference_image,
                text_input=entry.text_input if entry else not model.needs_reference_image,
                image_input=entry.image_input if entry else True,
                audio=model.audio,
                sizes_by_ratio={ratio: list(sizes) for ratio, sizes in entry.sizes.items()} if entry else {},
                plans=entry.plans if entry else (),
            )
        )
    return offers


def _is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


async def list_videos(user_id: int, *, page: int = 1, per_page: int = 20, status: str | None = None) -> VideoPage:
    """The API's listing: the library's page, with its parameters checked (422) rather than corrected."""
    if page < 1:
        raise ValidationFailed("The page number starts at 1.")
    if not 1 <= per_page <= 100:
        raise ValidationFailed("Ask for between 1 and 100 videos per page.")
    if status and status not in {s.value for s in VideoStatus}:
        raise ValidationFailed(f"Unknown status “{status}”. Use one of: {', '.join(s.value for s in VideoStatus)}.")
    return await library.list_videos(user_id, status, page, per_page, clamp=False)


def _check_request(prompt: str, model_id: str, duration: int, resolution: str) -> tuple[str, ModelInfo, int]:
    """The trimmed prompt, the model and the price; 422 with a sentence for anything we cannot make."""
    prompt = (prompt or "").strip()
    if not prompt:
        raise ValidationFailed("Describe the video you want (the prompt is empty).", code="invalid_prompt")
    if len(prompt) > MAX_PROMPT:
        raise ValidationFailed(
            f"The prompt is {len(prompt):,} characters; keep it to {MAX_PROMPT:,}.", code="invalid_prompt"
        )
    model = registry.find_model(model_id)
    if model is None:
        known = ", ".join(m.id for m in registry.all_models())
        raise ValidationFailed(f"Unknown model “{model_id}”. Choose one of: {known}.", code="unknown_model")
    if not model.available:
        raise ValidationFailed(f"{model.name} is not available right now: {model.reason}", code="model_unavailable")
    if duration not in model.durations:
        allowed = ", ".join(f"{d} s" for d in model.durations)
        raise ValidationFailed(
            f"{model.name} makes videos of {allowed}; {duration} s is not one of them.", code="invalid_duration"
        )
    if resolution not in model.sizes:
        raise ValidationFailed(
            f"{model.name} makes videos of {', '.join(model.sizes)}; {resolution} is not one of them.",
            code="invalid_resolution",
        )
    return prompt, model, price_for(model.id, duration)


async def _check_user(user: Users | None, model: ModelInfo, resolution: str, price: int) -> None:
    """The seed's checks in its order (401, 403 plan, 403 expired), then the plan's models and sizes, then 402."""
    await charges.check_can_generate(user, 0)
    ok, reason = plans.allowed(user.subscription_plan, model.id, resolution)
    if not ok:
        raise PlanDoesNotAllow(reason)
    await charges.check_can_generate(user, price)


async def _reference(user_id: int, upload_id: int | None, trial_image_id: int | None) -> dict:
    """The reference-image columns for an upload of the user's or a trial image (never a URL to fetch)."""
    if upload_id is not None and trial_image_id is not None:
        raise ValidationFailed("Choose one reference image: an upload or a trial image, not both.")
    if upload_id is not None:
        upload = await Uploads.objects().where((Uploads.id == upload_id) & (Uploads.user == user_id)).first()
        if upload is None:
            raise ValidationFailed(
                "That reference image does not exist. Upload it again.", code="reference_image_not_found"
            )
        return {"reference_upload": upload.id, "reference_image_url": storage.media_url(upload.storage_key)}
    if trial_image_id is not None:
        trial = (
            await TrialImages.objects()
            .where((TrialImages.id == trial_image_id) & (TrialImages.is_active == True))
            .first()
        )
        if trial is None or not trial.storage_key:
            raise ValidationFailed("That trial image does not exist.", code="reference_image_not_found")
        return {"reference_trial_image": trial.id, "reference_image_url": trial.image_url}
    return {}


async def _by_idempotency_key(user_id: int, key: str) -> Videos | None:
    return await Videos.objects().where((Videos.user == user_id) & (Videos.idempotency_key == key)).first()


async def _add_event(video_id: int, step: str, message: str, progress_value: int) -> int:
    rows = await VideoEvents.insert(
        VideoEvents(video=video_id, step=step, message=message, progress=progress_value)
    ).returning(VideoEvents.id)
    return rows[0]["id"]


async def announce(video: Videos, event_id: int, step: str, message: str, *, done: bool = False) -> None:
    """Publish a stored event to the live streams (after the commit that stored it)."""
    await progress.publish(
        video.id,
        video.user if isinstance(video.user, int) else video.user.id,
        {
            "video_id": video.id,
            "event_id": event_id,
            "step": step,
            "status": video.status,
            "progress": video.progress,
            "message": message,
            "done": done,
        },
    )


def enqueue(video_id: int, **kwargs) -> None:
    """Hand the job to a worker (by actor name: services never import the task modules)."""
    try:
        message = dramatiq.get_broker().get_actor(GENERATE_ACTOR).send(video_id, **kwargs)
    except (RedisError, OSError) as exc:
        # The video is stored (and paid for): the reconciler queues it once Redis is back.
        log.warning("video %s not queued now, Redis is unreachable (%s); the reconciler will queue it", video_id, exc)
        return
    log.info("video %s: queued", video_id, extra={"video_id": video_id, "message_id": message.message_id})


@dataclass(frozen=True)
class VideoSpec:
    """One generate request: what the studio form or one API item asks for (`variations` videos of it)."""

    prompt: str
    model: str
    duration: int
    resolution: str
    reference_image_id: int | None = None
    trial_image_id: int | None = None
    audio: bool = False
    variations: int = 1


@dataclass(frozen=True)
class _Checked:
    """A spec that passed every check but the credits: what to store and what one video of it costs."""

    prompt: str
    info: ModelInfo
    duration: int
    resolution: str
    audio: bool
    price: int
    variations: int
    reference: dict


async def _check_spec(user: Users | None, spec: VideoSpec) -> _Checked:
    """Every check of one request except the balance, in the seed's order; nothing is charged or stored."""
    if (
        isinstance(spec.variations, bool)
        or not isinstance(spec.variations, int)
        or not 1 <= spec.variations <= MAX_VARIATIONS
    ):
        raise ValidationFailed(f"Ask for 1 to {MAX_VARIATIONS} variations.", code="invalid_variations")
    prompt, info, price = _check_request(spec.prompt, spec.model, spec.duration, spec.resolution)
    await _check_user(user, info, spec.resolution, 0)
    if spec.audio and not info.audio:
        raise ValidationFailed(
            f"{info.name} makes silent videos; choose a model with sound or turn sound off.", code="audio_unavailable"
        )
    reference = await _reference(user.id, spec.reference_image_id, spec.trial_image_id)
    if info.needs_reference_image and not reference:
        raise ValidationFailed(
            f"{info.name} makes a video from a photo: upload one or pick a trial image.",
            code="reference_image_required",
        )
    entry = model_catalogue.get(info.id)
    if not reference and entry is not None and spec.resolution not in entry.text_sizes():
        raise ValidationFailed(
            f"{info.name} makes {spec.resolution} only from a photo: add one or pick another size.",
            code="reference_image_required",
        )
    return _Checked(prompt, info, spec.duration, spec.resolution, bool(spec.audio), price, spec.variations, reference)


async def _store_and_queue(
    user: Users, checked: list[_Checked], *, batch_id: str | None = None, idempotency_key: str | None = None
) -> list[Videos]:
    """The one way videos are made: all of them charged and stored in one transaction (all or nothing),
    then each queued as its own job. The worker's per-plan slot cap decides when each starts."""
    total = sum(c.price * c.variations for c in checked)
    try:
        await charges.check_can_generate(user, total)
    except InsufficientCreditsException:
        count = sum(c.variations for c in checked)
        raise InsufficientCreditsException(
            f"These {count} videos cost {total:,} credits and you have {user.credits:,}."
            if count > 1
            else f"This video costs {total:,} credits and you have {user.credits:,}."
        ) from None
    made: list[tuple[Videos, int]] = []
    async with Videos._meta.db.transaction():
        for item in checked:
            group_id = str(uuid.uuid4()) if item.variations > 1 else None
            for _ in range(item.variations):
                video = Videos(
                    user=user.id,
                    prompt=item.prompt,
                    model=item.info.id,
                    provider=item.info.provider,
                    duration=item.duration,
                    resolution=item.resolution,
                    audio=item.audio,
                    status=VideoStatus.pending.value,
                    step="queued",
                    progress=0,
                    credits_charged=item.price,
                    charge_seq=1,
                    idempotency_key=None if made else idempotency_key,
                    group_id=group_id,
                    batch_id=batch_id,
                    **item.reference,
                )
                await video.save()
                await charges.debit(user.id, video.id, 1, item.price)
                made.append((video, await _add_event(video.id, "queued", QUEUED_MESSAGE, 0)))
        await slots.check_queue_room(user.id)
    videos = []
    for stored, event_id in made:
        video = await get_video(user.id, stored.id)
        await announce(video, event_id, "queued", QUEUED_MESSAGE)
        enqueue(video.id)
        videos.append(video)
    return videos


async def _group_of(video: Videos) -> list[Videos]:
    if not video.group_id:
        return [video]
    return list(
        await Videos.objects()
        .where((Videos.user == video.user) & (Videos.group_id == video.group_id))
        .order_by(Videos.id)
    )


async def create_videos(
    user: Users | None, spec: VideoSpec, *, idempotency_key: str | None = None
) -> tuple[list[Videos], bool]:
    """Check, charge and store `spec.variations` videos of one request (all or none), then queue each.

    Returns (videos, created). With an `idempotency_key` the user already used, the videos it made
    come back unchanged (created False) and nothing is charged.
    """
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise ValidationFailed(f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} characters.")
        if user is not None and (existing := await _by_idempotency_key(user.id, idempotency_key)):
            return await _group_of(existing), False
    checked = await _check_spec(user, spec)
    try:
        return await _store_and_queue(user, [checked], idempotency_key=idempotency_key), True
    except Exception as exc:
        if idempotency_key is not None and _is_unique_violation(exc):
            # The same request raced itself; the other one made (and paid for) the videos.
            existing = await _by_idempotency_key(user.id, idempotency_key)
            if existing is not None:
                return await _group_of(existing), False
        raise


async def create_video(
    user: Users | None,
    *,
    prompt: str,
    model: str,
    duration: int,
    resolution: str,
    reference_image_id: int | None = None,
    trial_image_id: int | None = None,
    idempotency_key: str | None = None,
    audio: bool = False,
) -> tuple[Videos, bool]:
    """One video (see `create_videos`): returns (video, created)."""
    videos, created = await create_videos(
        user,
        VideoSpec(prompt, model, duration, resolution, reference_image_id, trial_image_id, audio),
        idempotency_key=idempotency_key,
    )
    return videos[0], created


async def numbered(number: int, check: Awaitable[T]) -> T:
    """Await one batch item's check; its refusal names the item ("Item 3: ...")."""
    try:
        return await check
    except AppError as exc:
        exc.detail = f"Item {number}: {exc.detail}"
        exc.args = (exc.detail,)
        raise


async def create_batch(user: Users | None, specs: list[VideoSpec]) -> tuple[str, list[Videos]]:
    """Up to MAX_BATCH requests checked as a whole (the first bad item refuses the batch, naming it) before
    anything is charged; then every video charged and stored at once and each queued. Returns (batch id, videos)."""
    if user is None:
        await charges.check_can_generate(None, 0)  # 401
    if not 1 <= len(specs) <= MAX_BATCH:
        raise ValidationFailed(
            f"A batch holds 1 to {MAX_BATCH} items; this one has {len(specs)}.", code="invalid_batch"
        )
    checked = [await numbered(number, _check_spec(user, spec)) for number, spec in enumerate(specs, start=1)]
    batch_id = str(uuid.uuid4())
    return batch_id, await _store_and_queue(user, checked, batch_id=batch_id)


async def get_batch(user_id: int, batch_id: str) -> list[Videos]:
    """The videos of one of the user's batches, in request order; 404 for anyone else's or an unknown id."""
    videos = (
        list(await Videos.objects().where((Videos.user == user_id) & (Videos.batch_id == batch_id)).order_by(Videos.id))
        if batch_id and len(batch_id) <= 36
        else []
    )
    if not videos:
        raise NotFound("No such batch.")
    return videos


async def retry_video(user: Users | None, video_id: int) -> Videos:
    """Try a failed video again: the same checks as a new one, and a new charge."""
    if user is None:
        await charges.check_can_generate(None, 0)  # 401
    video = await get_video(user.id, video_id)
    if video.status != VideoStatus.failed.value:
        raise Conflict("Only a failed video can be retried.", code="not_failed")
    _, info, price = _check_request(video.prompt, video.model, video.duration, video.resolution)
    await _check_user(user, info, video.resolution, price)
    seq = video.charge_seq + 1
    async with Videos._meta.db.transaction():
        claimed = (
            await Videos.update(
                {
                    Videos.status: VideoStatus.pending.value,
                    Videos.step: "queued",
                    Videos.progress: 0,
                    Videos.charge_seq: seq,
                    Videos.credits_charged: price,
                    Videos.attempts: 0,
                    Videos.provider_job_id: None,
                    Videos.error_message: None,
                    Videos.completed_at: None,
                }
            )
            .where(
                (Videos.id == video.id)
                & (Videos.status == VideoStatus.failed.value)
                & (Videos.charge_seq == video.charge_seq)
            )
            .returning(Videos.id)
        )
        if not claimed:
            raise Conflict("This video is already being retried.", code="not_failed")
        await charges.debit(user.id, video.id, seq, price)
        await slots.check_queue_room(user.id)
        message = "Queued again: waiting for a worker to pick the job up."
        event_id = await _add_event(video.id, "queued", message, 0)
    video = await get_video(user.id, video.id)
    await announce(video, event_id, "queued", message)
    enqueue(video.id)
    return video


async def delete_video(user_id: int, video_id: int) -> None:
    """Delete a video and its stored files.

    A video not yet sent to the provider is stopped and refunded first. Once the provider has the
    job it is refused (409) until it finishes: the Videos API cannot cancel a running job, so the
    work is being paid for either way.
    """
    video = await get_video(user_id, video_id)
    if video.status in ACTIVE_STATUSES:
        async with Videos._meta.db.transaction():
            stopped = (
                await Videos.update(
                    {
                        Videos.status: VideoStatus.failed.value,
                        Videos.step: "failed",
                        Videos.error_message: "Deleted before it started.",
                    }
                )
                .where(
                    (Videos.id == video.id)
                    & Videos.status.is_in(list(ACTIVE_STATUSES))
                    & (Videos.charge_seq == video.charge_seq)
                    & Videos.provider_job_id.is_null()
                )
                .returning(Videos.id)
            )
            if stopped:
                await charges.refund(video.id, video.charge_seq)
        if not stopped:
            raise Conflict(
                "This video is being generated; you can delete it once it has finished.", code="video_generating"
            )
        video = await get_video(user_id, video_id)
    finished = await finishing_jobs.stored_keys_for_video(video.id)
    await Videos.delete().where((Videos.id == video.id) & (Videos.user == user_id))
    await storage.adelete(video.video_key, video.poster_key, *finished)
