"""Share links: an unguessable public link to one finished video, revocable at once (then 404)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from app.config import get_settings
from app.errors import Conflict, NotFound
from app.tables import BrandKits, Renditions, ShareLinks, Videos, VideoStatus

TITLE_LIMIT = 120
# 32 random bytes: 43 URL-safe characters, far beyond guessing.
TOKEN_BYTES = 32


class NotShareable(Conflict):
    code = "video_not_finished"
    default_detail = "Only a finished video can be shared."


@dataclass(frozen=True)
class Shared:
    """A live link and the video it shows."""

    link: ShareLinks
    video: Videos
    # The owner's call to action from their brand kit: (text, link), when they set a link.
    cta: tuple[str, str] | None = None
    # Set when the link shows one of the video's renditions rather than the video itself.
    rendition: Renditions | None = None

    @property
    def token(self) -> str:
        return self.link.token

    @property
    def title(self) -> str:
        return self.link.title or "An ad made with AdsVideo"

    @property
    def url(self) -> str:
        return share_url(self.link.token)

    @property
    def embed(self) -> str:
        return embed_url(self.link.token)

    @property
    def published(self) -> bool:
        return self.link.published_at is not None and self.link.hidden_at is None

    @property
    def width(self) -> int:
        return self.rendition.width if self.rendition else int(self.video.resolution.split("x")[0])

    @property
    def height(self) -> int:
        return self.rendition.height if self.rendition else int(self.video.resolution.split("x")[1])

    @property
    def video_key(self) -> str | None:
        return self.rendition.video_key if self.rendition else self.video.video_key

    @property
    def poster_key(self) -> str | None:
        return self.rendition.poster_key if self.rendition else self.video.poster_key


def title_from_prompt(prompt: str) -> str:
    first = " ".join((prompt or "").split())
    return first if len(first) <= TITLE_LIMIT else first[: TITLE_LIMIT - 1].rstrip() + "…"


def share_url(token: str) -> str:
    return f"{get_settings().base_url}/s/{token}"


def embed_url(token: str) -> str:
    return f"{share_url(token)}/embed"


def _live():
    return ShareLinks.revoked_at.is_null()


def _target(video_id: int, rendition_id: int | None):
    where = ShareLinks.video == video_id
    return where & (ShareLinks.rendition.is_null() if rendition_id is None else ShareLinks.rendition == rendition_id)


async def _owned_rendition(video_id: int, rendition_id: int | None) -> Renditions | None:
    if rendition_id is None:
        return None
    row = await Renditions.objects().where((Renditions.id == rendition_id) & (Renditions.video == video_id)).first()
    if row is None:
        raise NotFound("Rendition not found.", code="rendition_not_found")
    return row


async def _owned_video(user_id: int, video_id: int) -> Videos:
    video = await Videos.objects().where((Videos.id == video_id) & (Videos.user == user_id)).first()
    if video is None:
        raise NotFound("Video not found.", code="video_not_found")
    return video


async def live_link(video_id: int, rendition_id: int | None = None) -> ShareLinks | None:
    return await ShareLinks.objects().where(_target(video_id, rendition_id) & _live()).first()


async def share(user_id: int, video_id: int, rendition_id: int | None = None) -> Shared:
    """Turn sharing on for the user's finished video (or one of its renditions); the same link when it is on."""
    video = await _owned_video(user_id, video_id)
    if video.status != VideoStatus.completed.value or not video.video_key:
        raise NotShareable()
    rendition = await _owned_rendition(video_id, rendition_id)
    link = await live_link(video_id, rendition_id)
    if link is None:
        title = title_from_prompt(video.prompt)
        if rendition is not None:
            title = title_from_prompt(f"{title} ({rendition.placement})")
        link = ShareLinks(video=video_id, rendition=rendition_id, token=secrets.token_urlsafe(TOKEN_BYTES), title=title)
        try:
            await link.save()
        except Exception:
            # Two clicks at once: the unique index kept one live link; use it.
            link = await live_link(video_id, rendition_id)
            if link is None:
                raise
    return Shared(link, video, rendition=rendition)


async def revoke(user_id: int, video_id: int, rendition_id: int | None = None, *, everything: bool = False) -> None:
    """Turn sharing off: the link (its gallery entry and embeds too) answers 404 from now on. `everything`:
    the video's own link and every rendition's."""
    await _owned_video(user_id, video_id)
    where = (ShareLinks.video == video_id) if everything else _target(video_id, rendition_id)
    await ShareLinks.update({ShareLinks.revoked_at: datetime.now(UTC)}).where(where & _live())


async def for_owner(user_id: int, video_id: int, rendition_id: int | None = None) -> Shared | None:
    """The live link of the user's video (or rendition), if sharing is on."""
    video = await _owned_video(user_id, video_id)
    link = await live_link(video_id, rendition_id)
    return Shared(link, video, rendition=await _owned_rendition(video_id, link.rendition)) if link else None


async def rendition_links(user_id: int, video_id: int) -> list[Shared]:
    """The live links of the video's renditions, oldest first."""
    video = await _owned_video(user_id, video_id)
    links = (
        await ShareLinks.objects()
        .where((ShareLinks.video == video_id) & ShareLinks.rendition.is_not_null() & _live())
        .order_by(ShareLinks.id)
    )
    renditions = (
        {r.id: r for r in await Renditions.objects().where(Renditions.id.is_in([x.rendition for x in links]))}
        if links
        else {}
    )
    return [Shared(x, video, rendition=renditions.get(x.rendition)) for x in links]


async def by_token(token: str) -> Shared:
    """What a visitor sees for `token`; NotFound for unknown and revoked links alike."""
    if not token or len(token) > 64:
        raise NotFound("This link does not exist or was turned off.", code="share_not_found")
    link = await ShareLinks.objects().where((ShareLinks.token == token) & _live()).first()
    video = await Videos.objects().where(Videos.id == link.video).first() if link else None
    if link is None or video is None or video.status != VideoStatus.completed.value:
        raise NotFound("This link does not exist or was turned off.", code="share_not_found")
    rendition = await Renditions.objects().where(Renditions.id == link.rendition).first() if link.rendition else None
    if link.rendition and rendition is None:
        raise NotFound("This link does not exist or was turned off.", code="share_not_found")
    return Shared(link, video, await brand_cta(video.user), rendition)


def cta_link(url: str) -> str | None:
    """A brand kit's CTA address as a safe link: http(s) only; a bare "shop.example.com/x" gets https://."""
    url = (url or "").strip()
    if not url or any(c.isspace() for c in url):
        return None
    if url.lower().startswith(("https://", "http://")):
        return url
    host = url.split("/", 1)[0]
    return f"https://{url}" if "." in host and ":" not in host and not url.startswith("/") else None


async def brand_cta(user_id: int) -> tuple[str, str] | None:
    kit = await BrandKits.select(BrandKits.cta_text, BrandKits.cta_url).where(BrandKits.user == user_id).first()
    link = cta_link(kit["cta_url"]) if kit else None
    return (kit["cta_text"] or "Learn more", link) if link else None


def shared_key(shared: Shared, which: str) -> str | None:
    """The storage key of the video or poster behind a live link."""
    return shared.video_key if which == "video" else shared.poster_key
