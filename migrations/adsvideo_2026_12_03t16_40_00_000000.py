"""Videos remember whether a soundtrack was asked for, and the variation group and batch they belong to."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Videos: audio, group_id (variations of one request), batch_id (one batch request)"

STATEMENTS = [
    "ALTER TABLE videos ADD COLUMN audio BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE videos ADD COLUMN group_id VARCHAR(36) NULL",
    "ALTER TABLE videos ADD COLUMN batch_id VARCHAR(36) NULL",
    "CREATE INDEX IF NOT EXISTS videos_group_id ON videos (group_id)",
    "CREATE INDEX IF NOT EXISTS videos_batch_id ON videos (batch_id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
