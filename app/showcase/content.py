"""Showcase videos and trial images: the public queries behind the home page and API, and the admin's
changes to them (each change clears the home-page cache)."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from app.config import get_settings
from app.errors import NotFound, ValidationFailed
from app.media import storage
from app.media.cpu import run_cpu
from app.media.images import validate_image
from app.media.storage import media_url, new_key
from app.media.video_files import validate_mp4
from app.showcase import home_cache
from app.tables import ShowcaseVideos, TrialImages

MAX_PAGE_SIZE = 50
MAX_VIDEO_BYTES = 100 * 1024 * 1024
HERO_LIMIT = 6
FEATURED_LIMIT = 8


class ShowcaseVideo(msgspec.Struct):
    """A public showcase video."""

    id: int
    title: str
    description: str
    category: str
    video_url: str
    poster_url: str | None
    is_featured: bool
    is_hero: bool
    order: int


class ShowcasePage(msgspec.Struct):
    """One page of showcase videos, in display order."""

    items: list[ShowcaseVideo]
    page: int
    page_size: int
    total: int
    has_more: bool


class TrialImage(msgspec.Struct):
    """A product photo anyone can try the studio with."""

    id: int
    title: str
    image_url: str
    category: str
    order: int


_VIDEO_COLUMNS = (
    ShowcaseVideos.id,
    ShowcaseVideos.title,
    ShowcaseVideos.description,
    ShowcaseVideos.category,
    ShowcaseVideos.video_url,
    ShowcaseVideos.poster_url,
    ShowcaseVideos.is_featured,
    ShowcaseVideos.is_hero,
    ShowcaseVideos.order,
)
_TRIAL_COLUMNS = (TrialImages.id, TrialImages.title, TrialImages.image_url, TrialImages.category, TrialImages.order)


def _videos(rows: list[dict]) -> list[ShowcaseVideo]:
    return msgspec.convert(rows, list[ShowcaseVideo], strict=False)


def _active_videos():
    return (
        ShowcaseVideos.select(*_VIDEO_COLUMNS)
        .where(ShowcaseVideos.is_active == True)
        .order_by(ShowcaseVideos.order)
        .order_by(ShowcaseVideos.id)
    )


# --- public queries ---------------------------------------------------------------------------------


async def hero_videos(limit: int = HERO_LIMIT) -> list[ShowcaseVideo]:
    return _videos(await _active_videos().where(ShowcaseVideos.is_hero == True).limit(limit))


async def featured_videos(limit: int = FEATURED_LIMIT) -> list[ShowcaseVideo]:
    return _videos(await _active_videos().where(ShowcaseVideos.is_featured == True).limit(limit))


async def hero_and_featured() -> tuple[list[ShowcaseVideo], list[ShowcaseVideo]]:
    """Both home-page rows from one query (a video can be in both)."""
    rows = _videos(
        await _active_videos()
        .where((ShowcaseVideos.is_hero == True) | (ShowcaseVideos.is_featured == True))
        .limit(HERO_LIMIT + FEATURED_LIMIT)
    )
    return [v for v in rows if v.is_hero][:HERO_LIMIT], [v for v in rows if v.is_featured][:FEATURED_LIMIT]


def _check_paging(page: int, page_size: int) -> None:
    if page < 1:
        raise ValidationFailed("page must be 1 or more.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")


async def grid(category: str | None, page: int, page_size: int) -> tuple[list[ShowcaseVideo], bool]:
    """A page of the showcase grid and whether more follow (one query: it fetches one extra row)."""
    _check_paging(page, page_size)
    query = _active_videos()
    if category:
        query = query.where(ShowcaseVideos.category == category)
    rows = _videos(await query.limit(page_size + 1).offset((page - 1) * page_size))
    return rows[:page_size], len(rows) > page_size


async def videos_page(category: str | None, page: int, page_size: int) -> ShowcasePage:
    items, has_more = await grid(category, page, page_size)
    count = ShowcaseVideos.count().where(ShowcaseVideos.is_active == True)
    if category:
        count = count.where(ShowcaseVideos.category == category)
    return ShowcasePage(items=items, page=page, page_size=page_size, total=await count, has_more=has_more)


async def categories() -> list[str]:
    rows = (
        await ShowcaseVideos.select(ShowcaseVideos.category)
        .where(ShowcaseVideos.is_active == True)
        .distinct()
        .order_by(ShowcaseVideos.category)
    )
    return [row["category"] for row in rows if row["category"]]


async def trial_images() -> list[TrialImage]:
    rows = (
        await TrialImages.select(*_TRIAL_COLUMNS)
        .where(TrialImages.is_active == True)
        .order_by(TrialImages.order)
        .order_by(TrialImages.id)
    )
    return msgspec.convert(rows, list[TrialImage], strict=False)


# --- admin ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoFields:
    title: str
    description: str
    category: str
    order: int | None
    is_featured: bool
    is_hero: bool
    is_active: bool


@dataclass(frozen=True)
class TrialFields:
    title: str
    category: str
    order: int | None
    is_active: bool


def _text(value: str, label: str, *, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"{label} is required.")
    if len(value) > limit:
        raise ValidationFailed(f"{label} can be at most {limit} characters.")
    return value


def _clean_video_fields(f: VideoFields) -> VideoFields:
    return VideoFields(
        title=_text(f.title, "Title", required=True, limit=255),
        description=_text(f.description, "Description", required=False, limit=2000),
        category=_text(f.category, "Category", required=True, limit=64),
        order=f.order,
        is_featured=f.is_featured,
        is_hero=f.is_hero,
        is_active=f.is_active,
    )


def _clean_trial_fields(f: TrialFields) -> TrialFields:
    return TrialFields(
        title=_text(f.title, "Title", required=True, limit=255),
        category=_text(f.category, "Category", required=False, limit=64),
        order=f.order,
        is_active=f.is_active,
    )


def _key_of(url: str | None) -> str | None:
    """The storage key behind one of our public media URLs (None for anything else)."""
    if url and url.startswith("/media/public/"):
        return url[len("/media/") :]
    return None


async def _delete_files(*urls: str | None) -> None:
    await storage.adelete(*(_key_of(url) for url in urls))


async def _store(prefix: str, extension: str, data: bytes) -> str:
    key = new_key(prefix, extension)
    await storage.asave_bytes(key, data)
    return media_url(key)


async def _prepare_video_media(video: bytes | None, poster: bytes | None) -> tuple[str | None, str | None]:
    """Validate then store the uploaded files; returns their URLs (None where nothing was sent)."""
    checked_video = await run_cpu(validate_mp4, video, MAX_VIDEO_BYTES) if video else None
    max_image = get_settings().max_upload_bytes
    checked_poster = await run_cpu(validate_image, poster, max_image) if poster else None
    video_url = await _store("public/showcase", ".mp4", video) if checked_video else None
    if checked_poster:
        poster_url = await _store("public/showcase", checked_poster.extension, checked_poster.clean_bytes)
    elif checked_video:
        poster_url = await _store("public/showcase", ".jpg", checked_video.poster_jpeg)
    else:
        poster_url = None
    return video_url, poster_url


async def all_videos() -> list[ShowcaseVideos]:
    return await ShowcaseVideos.objects().order_by(ShowcaseVideos.order).order_by(ShowcaseVideos.id)


async def get_video(video_id: int) -> ShowcaseVideos:
    row = await ShowcaseVideos.objects().where(ShowcaseVideos.id == video_id).first()
    if row is None:
        raise NotFound("No such showcase video.")
    return row


async def _next_order(table) -> int:
    rows = await table.select(table.order).order_by(table.order, ascending=False).limit(1)
    return (rows[0]["order"] if rows else 0) + 1


async def create_video(fields: VideoFields, video: bytes | None, poster: bytes | None) -> ShowcaseVideos:
    fields = _clean_video_fields(fields)
    if not video:
        raise ValidationFailed("Choose an MP4 video to upload.")
    video_url, poster_url = await _prepare_video_media(video, poster)
    try:
        row = ShowcaseVideos(
            title=fields.title,
            description=fields.description,
            category=fields.category,
            video_url=video_url,
            poster_url=poster_url,
            is_featured=fields.is_featured,
            is_hero=fields.is_hero,
            is_active=fields.is_active,
            order=fields.order if fields.order is not None else await _next_order(ShowcaseVideos),
        )
        await row.save()
    except BaseException:
        await _delete_files(video_url, poster_url)
        raise
    await home_cache.invalidate()
    return row


async def update_video(video_id: int, fields: VideoFields, video: bytes | None, poster: bytes | None) -> ShowcaseVideos:
    row = await get_video(video_id)
    fields = _clean_video_fields(fields)
    video_url, poster_url = await _prepare_video_media(video, poster)
    old = [row.video_url if video_url else None, row.poster_url if poster_url else None]
    row.title, row.description, row.category = fields.title, fields.description, fields.category
    row.is_featured, row.is_hero, row.is_active = fields.is_featured, fields.is_hero, fields.is_active
    if fields.order is not None:
        row.order = fields.order
    row.video_url = video_url or row.video_url
    row.poster_url = poster_url or row.poster_url
    try:
        await row.save()
    except BaseException:
        await _delete_files(video_url, poster_url)
        raise
    await _delete_files(*old)
    await home_cache.invalidate()
    return row


async def toggle_video(video_id: int, flag: str) -> ShowcaseVideos:
    if flag not in ("is_featured", "is_hero", "is_active"):
        raise ValidationFailed("Unknown setting.")
    row = await get_video(video_id)
    setattr(row, flag, not getattr(row, flag))
    await row.save([getattr(ShowcaseVideos, flag), ShowcaseVideos.updated_at])
    await home_cache.invalidate()
    return row


async def _move(table, row_id: int, direction: str) -> None:
    if direction not in ("up", "down"):
        raise ValidationFailed("Direction must be up or down.")
    async with table._meta.db.transaction():
        rows = await table.select(table.id, table.order).order_by(table.order).order_by(table.id)
        ids = [r["id"] for r in rows]
        if row_id not in ids:
            raise NotFound("Not found.")
        i = ids.index(row_id)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
        # Renumbering makes ties (several rows with the same order) move predictably too.
        current = {r["id"]: r["order"] for r in rows}
        for position, rid in enumerate(ids, start=1):
            if current[rid] != position:
                await table.update({table.order: position}).where(table.id == rid)
    await home_cache.invalidate()


async def move_video(video_id: int, direction: str) -> None:
    await _move(ShowcaseVideos, video_id, direction)


async def delete_video(video_id: int) -> None:
    row = await get_video(video_id)
    await ShowcaseVideos.delete().where(ShowcaseVideos.id == video_id)
    await _delete_files(row.video_url, row.poster_url)
    await home_cache.invalidate()


async def all_trial_images() -> list[TrialImages]:
    return await TrialImages.objects().order_by(TrialImages.order).order_by(TrialImages.id)


async def get_trial_image(trial_id: int) -> TrialImages:
    row = await TrialImages.objects().where(TrialImages.id == trial_id).first()
    if row is None:
        raise NotFound("No such trial image.")
    return row


async def _store_trial_image(image: bytes) -> tuple[str, str]:
    checked = await run_cpu(validate_image, image, get_settings().max_upload_bytes)
    key = new_key("public/trial", checked.extension)
    await storage.asave_bytes(key, checked.clean_bytes)
    return key, media_url(key)


async def create_trial_image(fields: TrialFields, image: bytes | None) -> TrialImages:
    fields = _clean_trial_fields(fields)
    if not image:
        raise ValidationFailed("Choose an image to upload.")
    key, url = await _store_trial_image(image)
    try:
        row = TrialImages(
            title=fields.title,
            category=fields.category,
            image_url=url,
            storage_key=key,
            is_active=fields.is_active,
            order=fields.order if fields.order is not None else await _next_order(TrialImages),
        )
        await row.save()
    except BaseException:
        await storage.adelete(key)
        raise
    await home_cache.invalidate()
    return row


async def update_trial_image(trial_id: int, fields: TrialFields, image: bytes | None) -> TrialImages:
    row = await get_trial_image(trial_id)
    fields = _clean_trial_fields(fields)
    new = await _store_trial_image(image) if image else None
    row.title, row.category, row.is_active = fields.title, fields.category, fields.is_active
    if fields.order is not None:
        row.order = fields.order
    if new:
        row.storage_key, row.image_url = new
    try:
        await row.save()
    except BaseException:
        if new:
            await storage.adelete(new[0])
        raise
    # The old file stays: videos made from it may still show it as their reference image.
    await home_cache.invalidate()
    return row


async def toggle_trial_image(trial_id: int) -> TrialImages:
    row = await get_trial_image(trial_id)
    row.is_active = not row.is_active
    await row.save([TrialImages.is_active, TrialImages.updated_at])
    await home_cache.invalidate()
    return row


async def move_trial_image(trial_id: int, direction: str) -> None:
    await _move(TrialImages, trial_id, direction)


async def delete_trial_image(trial_id: int) -> None:
    await get_trial_image(trial_id)
    await TrialImages.delete().where(TrialImages.id == trial_id)
    # The file stays: videos made from this photo still show it as their reference image.
    await home_cache.invalidate()
