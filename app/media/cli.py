"""Storage commands for `python -m app storage`: check, copy-local-to-s3."""

from __future__ import annotations

from pathlib import Path

import click

from app.config import get_settings
from app.media.backend import StorageBackend, StorageError, StoredObject
from app.media.storage import LocalStorage, get_storage


@click.group()
def storage() -> None:
    """Where media is kept (STORAGE_BACKEND: local or s3)."""


@storage.command()
def check() -> None:
    """Write, read, presign and delete a probe object; exit 1 with the reason if any step fails."""
    backend = get_storage()
    try:
        backend.check()
    except StorageError as exc:
        raise click.ClickException(f"Storage check failed for {backend!r}: {exc}") from None
    steps = "write, read, presign, delete" if backend.name == "s3" else "write, read, delete"
    click.echo(f"Storage OK: {backend!r} ({steps})")


@storage.command("copy-local-to-s3")
@click.option(
    "--source",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The local media folder (default: MEDIA_ROOT).",
)
def copy_local_to_s3(source: Path | None) -> None:
    """Copy every stored file under MEDIA_ROOT into the S3 bucket (S3_*), keeping their keys.

    Safe to run again and to interrupt: files already in the bucket with the same size are skipped.
    Local files are left in place; set STORAGE_BACKEND=s3 once it has run.
    """
    from app.media.s3 import S3Storage

    settings = get_settings()
    local = LocalStorage(source or Path(settings.media_root))
    if not local.root.is_dir():
        raise click.ClickException(f"There is no folder {local.root} to copy from.")
    target = S3Storage.from_settings(settings)
    try:
        copied, skipped, copied_bytes = copy_all(local, target)
    except StorageError as exc:
        raise click.ClickException(f"Copy stopped: {exc}. Run the command again to resume.") from None
    click.echo(
        f"Copied {copied} file(s) ({copied_bytes / 1048576:.1f} MB) into {target!r}; {skipped} were already there."
    )


def copy_all(local: LocalStorage, target: StorageBackend) -> tuple[int, int, int]:
    """(files copied, files skipped, bytes copied): each file missing from `target` (or of another size) is copied."""
    present = {o.key: o.size for o in target.list()}
    files: list[StoredObject] = list(local.list())
    todo = [f for f in files if present.get(f.key) != f.size]
    total = sum(f.size for f in todo)
    with click.progressbar(
        length=total, label=f"Copying {len(todo)} file(s)", item_show_func=lambda f: f.key if f else ""
    ) as bar:
        for stored in todo:
            target.save_file(stored.key, local.path(stored.key), stored.content_type)
            bar.update(stored.size, stored)
    return len(todo), len(files) - len(todo), total
