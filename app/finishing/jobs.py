"""Finishing jobs: check a request against the clip (nothing is stored when it is refused), queue it, run
it on the worker (a rendition at a time, each a live step), store the renditions, list and delete sets.

Finishing uses our CPU, not a provider: it charges no credits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq

from app.config import get_settings
from app.errors import Conflict, NotFound, ValidationFailed
from app.finishing import brand_kits, engine, music_uploads
from app.finishing.audio import soundtrack
from app.finishing.options import Caption, EndCard, FinishOptions, Trim
from app.media.cpu import run_cpu
from app.media.storage import get_storage, new_key
from app.tables import (
    AudioUploads,
    Finishings,
    FinishingStatus,
    Renditions,
    Users,
    Videos,
    VideoStatus,
)
from app.videos import progress, slots

log = logging.getLogger("adsvideo.finishing")

FINISH_ACTOR = "finish_video"
IN_FLIGHT = (FinishingStatus.waiting.value, FinishingStatus.pending.value, FinishingStatus.processing.value)
TERMINAL = (FinishingStatus.completed.value, FinishingStatus.failed.value)
# Generation sizes are "WxH"; a clip still being made is checked against what it will be.
DEFAULT_FPS = 24
# Finishing counts toward the plan's cap on jobs in flight; without a free slot it looks again this often.
SLOT_KIND = "finish"
SLOT_RETRY_MS = 2000


@dataclasses.dataclass(frozen=True)
class Planned:
    placement: str
    width: int
    height: int
    duration: float


# --- options <-> stored JSON -------------------------------------------------------------------------


def options_to_json(options: FinishOptions, music_upload_id: int | None) -> str:
    data = dataclasses.asdict(options)
    data["music_upload_id"] = music_upload_id
    return json.dumps(data)


def options_from_json(text: str) -> tuple[FinishOptions, int | None]:
    data = json.loads(text)
    music = data.pop("music_upload_id", None)
    data["placements"] = tuple(data["placements"])
    data["captions"] = tuple(Caption(**c) for c in data.get("captions", ()))
    data["end_card"] = EndCard(**data["end_card"]) if data.get("end_card") else None
    data["trim"] = Trim(**data.get("trim") or {})
    return FinishOptions(**data), music


# --- asking for a finishing ------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _enqueue(finishing_id: int, delay_ms: int | None = None) -> None:
    """Hand the job to a worker (by actor name: services never import the task modules)."""
    actor = dramatiq.get_broker().get_actor(FINISH_ACTOR)
    if delay_ms:
        actor.send_with_options(args=(finishing_id,), delay=delay_ms)
    else:
        actor.send(finishing_id)


async def owned_video(user_id: int, video_id: int) -> Videos:
    video = await Videos.objects().where((Videos.id == video_id) & (Videos.user == user_id)).first()
    if video is None:
        raise NotFound("Video not found.", code="video_not_found")
    return video


async def _music(user_id: int, music_upload_id: int | None) -> AudioUploads | None:
    if music_upload_id is None:
        return None
    row = await music_uploads.get_for_user(user_id, music_upload_id)
    if row is None:
        raise ValidationFailed("music_upload_id: no such track among your uploads.", code="music_not_found")
    return row


def _planned(the_plan: engine.Plan) -> list[Planned]:
    return [Planned(r.placement, r.width, r.height, round(the_plan.seconds, 3)) for r in the_plan.renditions]


def probe_stored(key: str) -> engine.ClipInfo:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        get_storage().download_file(key, path)
        return engine.probe_clip(path)


async def request_finish(
    user: Users, video_id: int, options: FinishOptions, music_upload_id: int | None = None
) -> tuple[Finishings, list[Planned]]:
    """Check everything against the finished clip (422 with the reason), record the job, queue it."""
    video = await owned_video(user.id, video_id)
    if video.status != VideoStatus.completed.value or not video.video_key:
        raise Conflict("Only a finished video can be made into an ad.", code="video_not_ready")
    await _music(user.id, music_upload_id)
    brand = await brand_kits.engine_brand(user.id)
    clip = await run_cpu(probe_stored, video.video_key)
    the_plan = await run_cpu(engine.plan, options, brand, clip)
    row = Finishings(
        video=video.id,
        user=user.id,
        options=options_to_json(options, music_upload_id),
        status=FinishingStatus.pending.value,
        step="queued",
        message="Waiting for a worker",
        progress=0,
    )
    await row.save()
    _enqueue(row.id)
    return row, _planned(the_plan)


def _expected_clip(video: Videos) -> engine.ClipInfo:
    width, _, height = (video.resolution or "1280x720").partition("x")
    return engine.ClipInfo(
        width=int(width), height=int(height), fps=DEFAULT_FPS, seconds=float(video.duration), has_audio=False
    )


async def check_for_generation(
    user_id: int, options: FinishOptions, music_upload_id: int | None, duration: int, resolution: str
) -> list[Planned]:
    """Check a finishing asked for with a generation against the clip it will get (422 before any charge)."""
    await _music(user_id, music_upload_id)
    brand = await brand_kits.engine_brand(user_id)
    stand_in = Videos(duration=duration, resolution=resolution)
    the_plan = await run_cpu(engine.plan, options, brand, _expected_clip(stand_in))
    return _planned(the_plan)


async def add_waiting(video: Videos, options: FinishOptions, music_upload_id: int | None) -> Finishings:
    """Record a finishing that starts when `video` has been made."""
    row = Finishings(
        video=video.id,
        user=video.user,
        options=options_to_json(options, music_upload_id),
        status=FinishingStatus.waiting.value,
        step="waiting",
        message="Starts when the video is made",
    )
    await row.save()
    # The video may have been made (or have failed) before this row existed: settle it now.
    now = await Videos.select(Videos.status).where(Videos.id == video.id).first()
    if now and now["status"] == VideoStatus.completed.value:
        await start_waiting(video.id)
    elif now and now["status"] == VideoStatus.failed.value:
        await cancel_waiting(video.id)
    return row


async def start_waiting(video_id: int) -> None:
    """The video is made: queue the finishings that waited for it."""
    started = (
        await Finishings.update(
            {
                Finishings.status: FinishingStatus.pending.value,
                Finishings.step: "queued",
                Finishings.message: "Waiting for a worker",
            }
        )
        .where((Finishings.video == video_id) & (Finishings.status == FinishingStatus.waiting.value))
        .returning(Finishings.id)
    )
    for row in started:
        _enqueue(row["id"])


async def cancel_waiting(video_id: int) -> None:
    await Finishings.update(
        {
            Finishings.status: FinishingStatus.failed.value,
            Finishings.step: "failed",
            Finishings.error_message: "The video could not be made, so it was not finished.",
        }
    ).where((Finishings.video == video_id) & (Finishings.status == FinishingStatus.waiting.value))


# --- running one ---------------------------------------------------------------------------------------------


async def _report(
    row: Finishings, *, step: str, message: str, value: int, status: str | None = None, error: str | None = None
) -> None:
    values = {Finishings.step: step, Finishings.message: message, Finishings.progress: value}
    if status:
        values[Finishings.status] = status
    if error is not None:
        values[Finishings.error_message] = error
    if status == FinishingStatus.completed.value:
        values[Finishings.completed_at] = _now()
    await Finishings.update(values).where(Finishings.id == row.id)
    await progress.publish(
        row.video,
        row.user,
        {
            "kind": "finishing",
            "video_id": row.video,
            "finishing_id": row.id,
            "step": step,
            "message": message,
            "progress": value,
            "status": status or FinishingStatus.processing.value,
            "finished": status in TERMINAL,
        },
    )


async def _ticker(row: Finishings, step: str, message: str, start: int, span: int, fraction: list[float]) -> None:
    """While a rendition encodes in its thread, report how far it is twice a second."""
    shown = -1
    while True:
        await asyncio.sleep(0.5)
        value = start + int(span * fraction[0])
        if value != shown:
            shown = value
            await _report(row, step=step, message=message, value=value)


def _store(key: str, source: Path) -> None:
    """Store a rendered file (a few MB) under `key` in whichever storage backend is configured."""
    get_storage().save_file(key, source)


def _fetch(key: str, dest: Path) -> Path:
    get_storage().download_file(key, dest)
    return dest


def _stale_cutoff() -> datetime:
    return _now() - timedelta(seconds=get_settings().job_stale_seconds)


async def run(finishing_id: int) -> None:
    """Make the renditions of finishing `finishing_id`.

    Claimed first (queued, or left behind by a worker that died), so a duplicate message for a running
    job does nothing. Then it takes one of the user's job slots; while none is free it waits, visibly,
    and tries again."""
    claimed = (
        await Finishings.update({Finishings.status: FinishingStatus.processing.value})
        .where(
            (Finishings.id == finishing_id)
            & (
                (Finishings.status == FinishingStatus.pending.value)
                | ((Finishings.status == FinishingStatus.processing.value) & (Finishings.updated_at < _stale_cutoff()))
            )
        )
        .returning(Finishings.id)
    )
    if not claimed:
        return
    row = await Finishings.objects().where(Finishings.id == finishing_id).first()
    if not await slots.acquire(row.user, SLOT_KIND, finishing_id):
        busy, cap = await slots.in_flight(row.user), await slots.cap_for(row.user)
        await _report(
            row, step="waiting", message=slots.waiting_message(busy, cap), value=0, status=FinishingStatus.pending.value
        )
        _enqueue(finishing_id, SLOT_RETRY_MS)
        return
    try:
        await _run_claimed(row)
    finally:
        await slots.release(SLOT_KIND, finishing_id)


async def _run_claimed(row: Finishings) -> None:
    finishing_id = row.id
    stored: list[str] = []
    try:
        await _render_and_store(row, stored)
    except Exception as exc:
        for key in stored:
            await asyncio.to_thread(get_storage().delete, key)
        await Renditions.delete().where(Renditions.finishing == row.id)
        reason = exc.detail if isinstance(exc, ValidationFailed) else "Finishing failed on our side; try again."
        if not isinstance(exc, ValidationFailed):
            log.exception("finishing %s failed", finishing_id)
        await _report(row, step="failed", message=reason, value=100, status=FinishingStatus.failed.value, error=reason)


async def _render_and_store(row: Finishings, stored: list[str]) -> None:
    settings = get_settings()
    await _report(row, step="preparing", message="Preparing the clip and the soundtrack", value=2)
    video = await Videos.objects().where(Videos.id == row.video).first()
    if video is None or not video.video_key:
        raise ValidationFailed("The video is gone.")
    options, music_id = options_from_json(row.options)
    music_row = await music_uploads.get_for_user(row.user, music_id) if music_id else None
    if music_id and music_row is None:
        raise ValidationFailed("The music track was deleted.")
    brand = await brand_kits.engine_brand(row.user)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = await asyncio.to_thread(_fetch, video.video_key, work / "clip.mp4")
        music = None
        if music_row is not None:
            music = await asyncio.to_thread(
                _fetch, music_row.storage_key, work / f"music{Path(music_row.storage_key).suffix}"
            )
        the_plan = await asyncio.to_thread(lambda: engine.plan(options, brand, engine.probe_clip(clip)))
        start = float(the_plan.first_frame / the_plan.fps)
        sound = await asyncio.to_thread(
            lambda: engine.write_soundtrack(
                soundtrack(
                    clip=clip,
                    music=music,
                    trim_start=start,
                    trim_end=start + the_plan.clip_seconds,
                    total_seconds=the_plan.seconds,
                ),
                work / "soundtrack.m4a",
            )
        )
        count = len(the_plan.renditions)
        made = []
        for index, rendition in enumerate(the_plan.renditions):
            first, span = 5 + 88 * index // count, 88 // count
            step = f"rendering {rendition.placement}"
            message = f"Rendering {rendition.placement} ({rendition.width}×{rendition.height}), {index + 1} of {count}"
            await _report(row, step=step, message=message, value=first)
            fraction = [0.0]
            ticker = asyncio.create_task(_ticker(row, step, message, first, span, fraction))
            stem = rendition.placement.replace(":", "x")
            try:
                made.append(
                    await asyncio.to_thread(
                        engine.render_rendition,
                        the_plan,
                        rendition,
                        clip,
                        sound,
                        work / f"{stem}.mp4",
                        work / f"{stem}.jpg",
                        lambda f, box=fraction: box.__setitem__(0, f),
                        preset=settings.finish_x264_preset,
                    )
                )
            finally:
                ticker.cancel()
        await _report(row, step="storing", message="Storing the renditions", value=95)
        storage = get_storage()
        captions_key = None
        if the_plan.cues:
            from app.finishing.captions import to_webvtt

            captions_key = new_key("renditions", ".vtt")
            await asyncio.to_thread(storage.save_bytes, captions_key, to_webvtt(the_plan.cues).encode())
            stored.append(captions_key)
        for result in made:
            video_key, poster_key = new_key("renditions", ".mp4"), new_key("renditions", ".jpg")
            await asyncio.to_thread(_store, video_key, result.video)
            stored.append(video_key)
            await asyncio.to_thread(_store, poster_key, result.poster)
            stored.append(poster_key)
            await Renditions(
                finishing=row.id,
                video=row.video,
                user=row.user,
                placement=result.placement,
                width=result.width,
                height=result.height,
                duration_ms=round(result.seconds * 1000),
                video_key=video_key,
                poster_key=poster_key,
            ).save()
    await Finishings.update({Finishings.captions_key: captions_key}).where(Finishings.id == row.id)
    await _report(
        row,
        step="completed",
        message=f"{count} rendition{'s' if count > 1 else ''} ready",
        value=100,
        status=FinishingStatus.completed.value,
    )


async def reconcile() -> list[int]:
    """Queue again the finishings nobody has touched for `job_stale_seconds` (their worker died), and give
    back the job slots of finishings no longer being made."""
    cutoff = _stale_cutoff()
    stale = (
        await Finishings.select(Finishings.id)
        .where(
            Finishings.status.is_in([FinishingStatus.pending.value, FinishingStatus.processing.value])
            & (Finishings.updated_at < cutoff)
        )
        .order_by(Finishings.id)
        .limit(100)
    )
    for row in stale:
        await Renditions.delete().where(Renditions.finishing == row["id"])  # a half-stored run starts over
        _enqueue(row["id"])
    held = await Finishings.raw(
        "SELECT s.ref_id FROM job_slots s LEFT JOIN finishings f ON f.id = s.ref_id "
        "WHERE s.kind = {} AND (f.id IS NULL OR f.status NOT IN ({}, {}))",
        SLOT_KIND,
        FinishingStatus.pending.value,
        FinishingStatus.processing.value,
    )
    for row in held:
        await slots.release(SLOT_KIND, int(row["ref_id"]))
    return [row["id"] for row in stale]


# --- reading and deleting ------------------------------------------------------------------------------------


@dataclasses.dataclass
class FinishingSet:
    finishing: Finishings
    renditions: list[Renditions]


async def sets_for_video(user_id: int, video_id: int) -> list[FinishingSet]:
    """The video's finishings, newest first, each with its renditions (in the order asked)."""
    rows = (
        await Finishings.objects()
        .where((Finishings.video == video_id) & (Finishings.user == user_id))
        .order_by(Finishings.id, ascending=False)
    )
    if not rows:
        return []
    renditions = (
        await Renditions.objects().where(Renditions.finishing.is_in([r.id for r in rows])).order_by(Renditions.id)
    )
    by_set: dict[int, list[Renditions]] = {}
    for rendition in renditions:
        by_set.setdefault(rendition.finishing, []).append(rendition)
    return [FinishingSet(row, by_set.get(row.id, [])) for row in rows]


async def get_set(user_id: int, video_id: int, finishing_id: int) -> FinishingSet:
    row = (
        await Finishings.objects()
        .where((Finishings.id == finishing_id) & (Finishings.video == video_id) & (Finishings.user == user_id))
        .first()
    )
    if row is None:
        raise NotFound("No such finishing.", code="finishing_not_found")
    renditions = await Renditions.objects().where(Renditions.finishing == row.id).order_by(Renditions.id)
    return FinishingSet(row, list(renditions))


async def renditions_for_video(video_id: int) -> list[tuple[Renditions, str | None]]:
    """Every stored rendition of the video with its set's captions key, newest set first."""
    rows = (
        await Renditions.objects()
        .where(Renditions.video == video_id)
        .order_by(Renditions.finishing, ascending=False)
        .order_by(Renditions.id)
    )
    captions = {
        r["id"]: r["captions_key"]
        for r in await Finishings.select(Finishings.id, Finishings.captions_key).where(Finishings.video == video_id)
    }
    return [(r, captions.get(r.finishing)) for r in rows]


async def stored_keys_for_video(video_id: int) -> list[str]:
    """Every file the video's finishings stored (to delete with the video)."""
    keys = [
        k
        for r in await Renditions.select(Renditions.video_key, Renditions.poster_key).where(
            Renditions.video == video_id
        )
        for k in (r["video_key"], r["poster_key"])
    ]
    keys += [
        r["captions_key"]
        for r in await Finishings.select(Finishings.captions_key).where(
            (Finishings.video == video_id) & Finishings.captions_key.is_not_null()
        )
    ]
    return keys


async def delete_set(user_id: int, video_id: int, finishing_id: int) -> None:
    """Delete a finished (or failed) set and its files; 409 while it is being made."""
    found = await get_set(user_id, video_id, finishing_id)
    if found.finishing.status in IN_FLIGHT:
        raise Conflict(
            "These renditions are still being made; delete them once they are done.", code="finishing_in_progress"
        )
    keys = [k for r in found.renditions for k in (r.video_key, r.poster_key)]
    if found.finishing.captions_key:
        keys.append(found.finishing.captions_key)
    await Finishings.delete().where(Finishings.id == finishing_id)
    for key in keys:
        await asyncio.to_thread(get_storage().delete, key)
