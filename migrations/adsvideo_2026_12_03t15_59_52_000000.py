"""Indexes for sharing, notifications and webhooks, written to run on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T15:59:52:000000"
VERSION = "1.38.0"
DESCRIPTION = "Sharing, notifications and webhook indexes"

STATEMENTS = [
    # At most one live share link per video: turning sharing on twice returns the same link.
    "CREATE UNIQUE INDEX IF NOT EXISTS share_links_one_live_per_video ON share_links (video_id) "
    "WHERE revoked_at IS NULL",
    "CREATE INDEX IF NOT EXISTS share_links_gallery ON share_links (published_at) "
    "WHERE revoked_at IS NULL AND hidden_at IS NULL",
    "CREATE INDEX IF NOT EXISTS notifications_user_id_id ON notifications (user_id, id)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint_id_id ON webhook_deliveries (endpoint_id, id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
