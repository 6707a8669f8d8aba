"""Media storage under MEDIA_ROOT, addressed by keys the app chooses (never by paths from a request)."""

from __future__ import annotations

import mimetypes
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.config import get_settings
from app.ops.observe import ObservedStorage

# Keys are lower-case path segments of safe characters; anything else is refused before it touches the disk.
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_.-]*)*$")

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".vtt": "text/vtt",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
}


class InvalidKey(ValueError):
    """A key that is not one the app could have made."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    path: Path
    size: int
    modified: datetime
    content_type: str


def new_key(prefix: str, extension: str) -> str:
    """A fresh random key such as `videos/2026/11/3f2a….mp4`."""
    now = datetime.now(UTC)
    return f"{prefix}/{now:%Y/%m}/{uuid.uuid4().hex}{extension}"


def content_type_for(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


class LocalStorage:
    """Files on the local disk. Writes go to a temporary name and are renamed, so readers never see half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        if not isinstance(key, str) or ".." in key or not _KEY.match(key):
            raise InvalidKey(key)
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise InvalidKey(key)
        return path

    def save_bytes(self, key: str, data: bytes) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def temp_path(self, key: str) -> Path:
        """A private temporary file next to `key`'s final place; `commit(tmp, key)` moves it there."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")

    def commit(self, tmp: Path, key: str) -> Path:
        path = self.path(key)
        os.replace(tmp, path)
        return path

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except InvalidKey:
            return False

    def stat(self, key: str) -> StoredFile | None:
        try:
            path = self.path(key)
            st = path.stat()
        except (InvalidKey, OSError):
            return None
        if not path.is_file():
            return None
        return StoredFile(
            key=key,
            path=path,
            size=st.st_size,
            modified=datetime.fromtimestamp(st.st_mtime, UTC),
            content_type=content_type_for(key),
        )

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except InvalidKey:
            pass


def get_storage() -> LocalStorage:
    # Failures are counted for the metrics; the backend is used exactly as is otherwise.
    return ObservedStorage(LocalStorage(Path(get_settings().media_root)))  # type: ignore[return-value]


def media_url(key: str | None) -> str | None:
    """The URL the app serves a stored key at."""
    return f"/media/{key}" if key else None
