"""Run the migrations forwards (the Procfile's release step and `python -m app migrate`)."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards

from app.config import get_settings
from app.db import enable_wal


async def migrate() -> None:
    """Apply every pending migration; raise if one fails."""
    enable_wal(get_settings().database_url)
    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
