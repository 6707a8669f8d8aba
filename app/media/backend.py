"""What every storage backend offers: objects addressed by keys the app chooses, never by paths from a request.

Methods block (disk or network): async code calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import mimetypes
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

# Keys are lower-case path segments of safe characters; anything else is refused before it reaches storage.
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


class StorageError(RuntimeError):
    """The storage service failed or refused; the message says why and which setting to look at.

    `transient` is true when trying again later may succeed (network, throttling, a 5xx).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime
    content_type: str
    etag: str | None = None


def check_key(key: object) -> str:
    """`key` itself if it is a key the app could have made; InvalidKey otherwise."""
    if not isinstance(key, str) or ".." in key or not _KEY.match(key):
        raise InvalidKey(key)
    return key


def content_type_for(key: str) -> str:
    suffix = PurePosixPath(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


class StorageBackend(ABC):
    """Where uploads, references, videos, posters, showcase media, trial images and avatars are kept."""

    name: str

    @abstractmethod
    def save_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store a small object (an image) whole."""

    @abstractmethod
    def save_file(self, key: str, source: str | os.PathLike[str], content_type: str | None = None) -> None:
        """Store the file at `source`, streamed (never read whole into memory)."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """A small object's bytes; FileNotFoundError when there is none."""

    @abstractmethod
    def download_file(self, key: str, dest: str | os.PathLike[str]) -> None:
        """Stream the object into the local file `dest`; FileNotFoundError when there is none."""

    @abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """Size, time and type of the object at `key`, or None."""

    def exists(self, key: str) -> bool:
        try:
            return self.stat(key) is not None
        except InvalidKey:
            return False

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self.delete(key)

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every object whose key starts with `prefix`."""

    def presigned_url(self, key: str, *, method: str = "GET", download_name: str | None = None) -> str | None:
        """A short-lived URL that serves the object itself; None when the app serves it (local disk)."""
        return None

    def origins(self) -> tuple[str, ...]:
        """Origins other than the app's that browsers load media from (for the Content-Security-Policy)."""
        return ()

    def public_url(self, key: str, *, method: str = "GET") -> str | None:
        """A long-lived URL for public media (showcase, trial images, avatars); None when the app serves it."""
        return None

    def ping(self) -> None:  # noqa: B027  (optional: backends that can be checked cheaply override it)
        """One cheap request: is the storage there and are we let in? StorageError if not (for readiness)."""

    @abstractmethod
    def check(self) -> None:
        """Write, read, presign and delete a probe object; StorageError naming the step that failed."""
