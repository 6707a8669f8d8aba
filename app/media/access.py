"""Which stored files a user may fetch: their own videos, posters and uploads — nothing else."""

from __future__ import annotations

from typing import NamedTuple

from app.media.backend import InvalidKey, check_key
from app.tables import AudioUploads, BrandKits, Finishings, Renditions, Uploads, Videos

PRIVATE_PREFIXES = ("videos", "posters", "uploads", "references", "renditions", "music", "brand")


class Owned(NamedTuple):
    key: str
    content_type: str | None  # as recorded when it was uploaded, if it was


async def _owns(user_id: int, key: str) -> tuple[bool, str | None]:
    """(whether `user_id` owns `key`, the content type recorded for it if any)."""
    prefix = key.split("/", 1)[0]
    if prefix in ("videos", "posters"):
        column = Videos.video_key if prefix == "videos" else Videos.poster_key
        return await Videos.exists().where((column == key) & (Videos.user == user_id)), None
    if prefix == "uploads":
        row = (
            await Uploads.select(Uploads.content_type)
            .where((Uploads.storage_key == key) & (Uploads.user == user_id))
            .first()
        )
        return row is not None, row["content_type"] if row else None
    if prefix == "renditions":
        owned = Renditions.exists().where(
            ((Renditions.video_key == key) | (Renditions.poster_key == key)) & (Renditions.user == user_id)
        )
        if await owned:
            return True, None
        return await Finishings.exists().where((Finishings.captions_key == key) & (Finishings.user == user_id)), None
    if prefix == "music":
        row = (
            await AudioUploads.select(AudioUploads.content_type)
            .where((AudioUploads.storage_key == key) & (AudioUploads.user == user_id))
            .first()
        )
        return row is not None, row["content_type"] if row else None
    if prefix == "brand":
        return await BrandKits.exists().where((BrandKits.logo_key == key) & (BrandKits.user == user_id)), None
    return False, None


async def owned_key(user_id: int | None, key: str) -> Owned | None:
    """`key` if `user_id` owns it; None for anyone else, unknown keys and bad paths alike."""
    if user_id is None or not key or key.split("/", 1)[0] not in PRIVATE_PREFIXES:
        return None
    try:
        check_key(key)  # refuse anything that is not a key the app could have made, before any query
    except InvalidKey:
        return None
    owns, content_type = await _owns(user_id, key)
    return Owned(key, content_type) if owns else None
