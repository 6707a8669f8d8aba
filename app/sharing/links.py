"""Share links: an unguessable public link to one finished video, revocable at once (then 404)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from app.config import get_settings
from app.errors import Conflict, NotFound
from app.tables import BrandKits, ShareLinks, Videos, VideoStatus

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
        return int(self.video.resolution.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.video.resolution.split("x")[1])


def title_from_prompt(prompt: str) -> str:
    first = " ".join((prompt or "").split())
    return first if len(first) <= TITLE_LIMIT else first[: TITLE_LIMIT - 1].rstrip() + "…"


def share_url(token: str) -> str:
    return f"{get_settings().base_url}/s/{token}"


def embed_url(token: str) -> str:
    return f"{share_url(token)}/embed"


def _live():
    return ShareLinks.revoked_at.is_null()


async def _owned_video(user_id: int, video_id: int) -> Videos:
    video = await Videos.objects().where((Videos.id == video_id) & (Videos.user == user_id)).first()
    if video is None:
        raise NotFound("Video not found.", code="video_not_found")
    return video


async def live_link(video_id: int) -> ShareLinks | None:
    return await ShareLinks.objects().where((ShareLinks.video == video_id) & _live()).first()


async def share(user_id: int, video_id: int) -> Shared:
    """Turn sharing on for the user's finished video; the same link when it is already on."""
    video = await _owned_video(user_id, video_id)
    if video.status != VideoStatus.completed.value or not video.video_key:
        raise NotShareable()
    link = await live_link(video_id)
    if link is None:
        link = ShareLinks(video=video_id, token=secrets.token_urlsafe(TOKEN_BYTES),
                          title=title_from_prompt(video.prompt))
        try:
            await link.save()
        except Exception:
            # Two clicks at once: the unique index kept one live link; use it.
            link = await live_link(video_id)
            if link is None:
                raise
    return Shared(link, video)


async def revoke(user_id: int, video_id: int) -> None:
    """Turn sharing off: the link (and its gallery entry and embeds) answer 404 from now on."""
    await _owned_video(user_id, video_id)
    await ShareLinks.update({ShareLinks.revoked_at: datetime.now(UTC)}).where(
        (ShareLinks.video == video_id) & _live()
    )


async def for_owner(user_id: int, video_id: int) -> Shared | None:
    """The live link of the user's video, if sharing is on."""
    video = await _owned_video(user_id, video_id)
    link = await live_link(video_id)
    return Shared(link, video) if link else None


async def by_token(token: str) -> Shared:
    """What a visitor sees for `token`; NotFound for unknown and revoked links alike."""
    if not token or len(token) > 64:
        raise NotFound("This link does not exist or was turned off.", code="share_not_found")
    link = await ShareLinks.objects().where((ShareLinks.token == token) & _live()).first()
    video = await Videos.objects().where(Videos.id == link.video).first() if link else None
    if link is None or video is None or video.status != VideoStatus.completed.value:
        raise NotFound("This link does not exist or was turned off.", code="share_not_found")
    return Shared(link, video, await brand_cta(video.user))


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
    return shared.video.video_key if which == "video" else shared.video.poster_key
