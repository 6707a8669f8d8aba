"""Media storage, addressed by keys the app chooses (never by paths from a request).

`get_storage()` is the one backend of this process: files under MEDIA_ROOT (`STORAGE_BACKEND=local`, the
default) or a bucket of an S3-compatible service (`STORAGE_BACKEND=s3`). Every read and write of stored
media goes through it; MEDIA_ROOT otherwise only holds work in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG

from app.config import Settings, get_settings
from app.media.backend import (
    CONTENT_TYPES,
    InvalidKey,
    StorageBackend,
    StorageError,
    StoredObject,
    check_key,
    content_type_for,
)
from app.ops.observe import ObservedStorage

__all__ = [
    "CONTENT_TYPES",
    "InvalidKey",
    "LocalStorage",
    "StorageBackend",
    "StorageError",
    "StoredFile",
    "StoredObject",
    "adelete",
    "aexists",
    "aread_bytes",
    "asave_bytes",
    "content_type_for",
    "get_storage",
    "media_url",
    "storage_for",
    "new_key",
    "work_file",
]


@dataclass(frozen=True)
class StoredFile(StoredObject):
    """A stored object that is a file on this machine's disk (the local backend)."""

    path: Path = Path()


def new_key(prefix: str, extension: str) -> str:
    """A fresh random key such as `videos/2026/11/3f2a….mp4`."""
    now = datetime.now(UTC)
    return f"{prefix}/{now:%Y/%m}/{uuid.uuid4().hex}{extension}"


class LocalStorage(StorageBackend):
    """Files on the local disk. Writes go to a temporary name and are renamed, so readers never see half a file."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._inside = os.path.join(str(self.root), "")  # what every file path under the root starts with

    def __repr__(self) -> str:
        return f"<LocalStorage {self.root}>"

    def path(self, key: str) -> Path:
        # String operations, not pathlib's: every media request resolves its key, and this is a third of the cost.
        path = os.path.realpath(os.path.join(self._inside, check_key(key)))
        if not path.startswith(self._inside):
            raise InvalidKey(key)
        return Path(path)

    def _temp_beside(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")

    def save_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self.path(key)
        tmp = self._temp_beside(path)
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def save_file(self, key: str, source: str | os.PathLike[str], content_type: str | None = None) -> None:
        path = self.path(key)
        tmp = self._temp_beside(path)
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def download_file(self, key: str, dest: str | os.PathLike[str]) -> None:
        shutil.copyfile(self.path(key), dest)

    def stat(self, key: str) -> StoredFile | None:
        try:
            path = self.path(key)
            st = path.stat()
        except (InvalidKey, OSError):
            return None
        if not S_ISREG(st.st_mode):
            return None
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return StoredFile(key=key, path=path, size=st.st_size, modified=modified, content_type=content_type_for(key))

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except InvalidKey:
            pass

    def list(self, prefix: str = "") -> Iterator[StoredFile]:
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
            for filename in sorted(filenames):
                key = Path(dirpath, filename).relative_to(self.root).as_posix()
                if key.startswith(prefix) and not filename.startswith("."):
                    try:
                        stored = self.stat(key)
                    except InvalidKey:
                        continue
                    if stored is not None:
                        yield stored

    def check(self) -> None:
        key = f"adsvideo-check/{uuid.uuid4().hex}.txt"
        try:
            self.save_bytes(key, b"AdsVideo storage check\n")
            if self.read_bytes(key) != b"AdsVideo storage check\n":
                raise StorageError(f"{self.root} returned other bytes than were written")
            self.delete(key)
            self.path("adsvideo-check").rmdir()
        except OSError as exc:
            raise StorageError(f"Cannot write under MEDIA_ROOT={self.root}: {exc.strerror or exc}") from exc

    def ping(self) -> None:
        if not self.root.is_dir() and not os.access(self.root.parent, os.W_OK):
            raise StorageError(f"MEDIA_ROOT={self.root} does not exist and cannot be made")
        if self.root.is_dir() and not os.access(self.root, os.W_OK):
            raise StorageError(f"MEDIA_ROOT={self.root} is not writable")


_current: tuple[Settings, StorageBackend] | None = None


def storage_for(settings: Settings) -> StorageBackend:
    """The backend `settings` describe (one client per settings object, reused)."""
    global _current
    if _current is None or _current[0] is not settings:
        if settings.storage_backend == "s3":
            from app.media.s3 import S3Storage

            backend: StorageBackend = S3Storage.from_settings(settings)
        else:
            backend = LocalStorage(Path(settings.media_root))
        # Failures are counted for the metrics; the backend is used exactly as is otherwise.
        _current = (settings, ObservedStorage(backend))  # type: ignore[arg-type]
    return _current[1]


def get_storage() -> StorageBackend:
    """This process's storage backend: made again only when the settings change (tests)."""
    return storage_for(get_settings())


# The same operations for async code: the backend blocks (disk or network), so they run in a thread.


async def asave_bytes(key: str, data: bytes, content_type: str | None = None) -> None:
    await asyncio.to_thread(get_storage().save_bytes, key, data, content_type)


async def aread_bytes(key: str) -> bytes:
    return await asyncio.to_thread(get_storage().read_bytes, key)


async def aexists(key: str) -> bool:
    return await asyncio.to_thread(get_storage().exists, key)


async def adelete(*keys: str | None) -> None:
    """Delete the objects at `keys` (Nones skipped); a missing one is not an error."""
    wanted = [key for key in keys if key]
    if wanted:
        await asyncio.to_thread(get_storage().delete_many, wanted)


@contextlib.contextmanager
def work_file(suffix: str = "") -> Iterator[Path]:
    """A private temporary file for work in progress (under MEDIA_ROOT/_work), removed afterwards."""
    folder = Path(get_settings().media_root) / "_work"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def media_url(key: str | None) -> str | None:
    """The URL the app serves a stored key at (with S3, a redirect to the bucket after the owner check)."""
    return f"/media/{key}" if key else None
