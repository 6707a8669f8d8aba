"""A notification meant to be sent once (a batch's) is unique by its key, on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T17:34:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique notification dedupe keys"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS notifications_dedupe_key ON notifications (dedupe_key) "
    "WHERE dedupe_key IS NOT NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
