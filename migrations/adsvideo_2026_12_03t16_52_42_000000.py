"""One live share link per video and per rendition (was: per video), on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T16:52:42:000000"
VERSION = "1.38.0"
DESCRIPTION = "One live share link per video or rendition"

STATEMENTS = [
    "DROP INDEX IF EXISTS share_links_one_live_per_video",
    "CREATE UNIQUE INDEX IF NOT EXISTS share_links_one_live_per_target "
    "ON share_links (video_id, COALESCE(rendition_id, 0)) WHERE revoked_at IS NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
