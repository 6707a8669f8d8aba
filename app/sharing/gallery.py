"""The public gallery: shared videos their owners published; administrators hide items or promote
them to the home page's showcase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.errors import NotFound
from app.media.storage import get_storage, new_key
from app.sharing import links
from app.showcase import home_cache
from app.tables import ShareLinks, ShowcaseVideos

PAGE_SIZE = 12
PROMOTED_CATEGORY = "Community"


@dataclass(frozen=True)
class GalleryItem:
    """What a card shows; the same fields as a showcase video."""

    id: int
    token: str
    title: str
    category: str
    description: str
    video_url: str
    poster_url: str | None
    published_at: datetime
    hidden: bool


@dataclass(frozen=True)
class GalleryPage:
    items: list[GalleryItem]
    page: int
    has_more: bool


def _item(row: dict) -> GalleryItem:
    base = f"/s/{row['token']}"
    return GalleryItem(
        id=row["id"],
        token=row["token"],
        title=row["title"] or "An ad made with AdsVideo",
        category=f"{row['duration']} s · {row['resolution']}",
        description="",
        video_url=f"{base}/video.mp4",
        poster_url=f"{base}/poster" if row["poster_key"] else None,
        published_at=row["published_at"],
        hidden=row["hidden_at"] is not None,
    )


def _columns():
    return (
        ShareLinks.id,
        ShareLinks.token,
        ShareLinks.title,
        ShareLinks.published_at,
        ShareLinks.hidden_at,
        ShareLinks.video.duration.as_alias("duration"),
        ShareLinks.video.resolution.as_alias("resolution"),
        ShareLinks.video.poster_key.as_alias("poster_key"),
    )


async def page(number: int = 1, *, include_hidden: bool = False) -> GalleryPage:
    """Published videos, newest first (hidden ones only for administrators)."""
    number = max(1, min(number, 1000))
    where = (
        ShareLinks.revoked_at.is_null()
        & ShareLinks.published_at.is_not_null()
        & (ShareLinks.video.status == "completed")
    )
    if not include_hidden:
        where &= ShareLinks.hidden_at.is_null()
    rows = await (
        ShareLinks.select(*_columns())
        .where(where)
        .order_by(ShareLinks.published_at, ascending=False)
        .order_by(ShareLinks.id, ascending=False)
        .limit(PAGE_SIZE + 1)
        .offset((number - 1) * PAGE_SIZE)
    )
    return GalleryPage([_item(r) for r in rows[:PAGE_SIZE]], number, len(rows) > PAGE_SIZE)


async def publish(user_id: int, video_id: int, published: bool, rendition_id: int | None = None) -> links.Shared:
    """Put the user's video (or rendition) in the gallery (turning its share link on) or take it out."""
    shared = (
        await links.share(user_id, video_id, rendition_id)
        if published
        else await links.for_owner(user_id, video_id, rendition_id)
    )
    if shared is None:
        raise NotFound("This video is not shared.", code="share_not_found")
    value = datetime.now(UTC) if published else None
    await ShareLinks.update({ShareLinks.published_at: value}).where(ShareLinks.id == shared.link.id)
    shared.link.published_at = value
    return shared


async def _gallery_link(link_id: int) -> ShareLinks:
    link = (
        await ShareLinks.objects()
        .where((ShareLinks.id == link_id) & ShareLinks.revoked_at.is_null() & ShareLinks.published_at.is_not_null())
        .first()
    )
    if link is None:
        raise NotFound("No such gallery item.")
    return link


async def set_hidden(link_id: int, hidden: bool) -> None:
    """An administrator takes an item out of the gallery (or puts it back)."""
    await _gallery_link(link_id)
    await ShareLinks.update({ShareLinks.hidden_at: datetime.now(UTC) if hidden else None}).where(
        ShareLinks.id == link_id
    )


async def promote(link_id: int) -> ShowcaseVideos:
    """Copy a gallery item's files into the public showcase and list it there (featured)."""
    link = await _gallery_link(link_id)
    shared = await links.by_token(link.token)
    video = shared.video
    storage = get_storage()
    source = storage.stat(shared.video_key) if shared.video_key else None
    if source is None:
        raise NotFound("The video file is gone.")
    video_key = new_key("public/showcase", ".mp4")
    storage.save_bytes(video_key, storage.read_bytes(source.key))
    poster_url = None
    poster = storage.stat(shared.poster_key) if shared.poster_key else None
    if poster is not None:
        poster_key = new_key("public/showcase", "." + poster.key.rsplit(".", 1)[-1])
        storage.save_bytes(poster_key, storage.read_bytes(poster.key))
        poster_url = f"/media/{poster_key}"
    order = await ShowcaseVideos.select(ShowcaseVideos.order).order_by(ShowcaseVideos.order, ascending=False).first()
    row = ShowcaseVideos(
        title=link.title or links.title_from_prompt(video.prompt),
        description="",
        category=PROMOTED_CATEGORY,
        video_url=f"/media/{video_key}",
        poster_url=poster_url,
        is_featured=True,
        is_active=True,
        order=(order["order"] if order else 0) + 1,
    )
    await row.save()
    await home_cache.invalidate()
    return row
