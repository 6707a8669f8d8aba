"""oEmbed (https://oembed.com) for share links: type `video`, with the embed iframe and its size."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from app.config import get_settings
from app.errors import AppError, NotFound
from app.sharing import links

MAX_EMBED_WIDTH = 1280


class NotImplementedFormat(AppError):
    status_code = 501
    code = "format_not_supported"
    default_detail = "Only format=json is supported."


def token_from_url(url: str) -> str | None:
    """The token of one of our share URLs (`<base>/s/<token>` or its embed), else None."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return None
    base = urlsplit(get_settings().base_url)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != base.netloc.lower():
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) in (2, 3) and segments[0] == "s" and (len(segments) == 2 or segments[2] == "embed"):
        return segments[1]
    return None


def fit(width: int, height: int, max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """The video's size scaled down (never up) to the consumer's maximums, aspect kept."""
    scale = min(1.0, MAX_EMBED_WIDTH / width)
    if max_width:
        scale = min(scale, max_width / width)
    if max_height:
        scale = min(scale, max_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


async def oembed(url: str, fmt: str = "json", max_width: int | None = None, max_height: int | None = None) -> dict:
    if fmt != "json":
        raise NotImplementedFormat()
    token = token_from_url(url)
    if token is None:
        raise NotFound("That URL is not a share link of this site.", code="share_not_found")
    shared = await links.by_token(token)
    width, height = fit(shared.width, shared.height, max_width, max_height)
    src = links.embed_url(token)
    html = (
        f'<iframe src="{escape(src)}" width="{width}" height="{height}" frameborder="0" '
        f'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen '
        f'title="{escape(shared.title)}"></iframe>'
    )
    base = get_settings().base_url
    result = {
        "version": "1.0",
        "type": "video",
        "title": shared.title,
        "provider_name": "AdsVideo",
        "provider_url": base + "/",
        "html": html,
        "width": width,
        "height": height,
    }
    if shared.poster_key:
        result.update(
            thumbnail_url=f"{links.share_url(token)}/poster",
            thumbnail_width=shared.width,
            thumbnail_height=shared.height,
        )
    return result
