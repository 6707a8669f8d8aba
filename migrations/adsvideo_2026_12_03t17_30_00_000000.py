"""Indexes for the usage dashboard: every figure reads a `created_at` range, grouped in SQL, from an index
that holds every column the query needs (so a year of history is never scanned for a 30-day window)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Usage dashboard indexes"

STATEMENTS = [
    # Videos per day and status, per provider and model, active users: one range scan of this index.
    "CREATE INDEX IF NOT EXISTS videos_usage_window ON videos (created_at, status, provider, model, user_id)",
    # Completed-video times and failure reasons in the window, and the oldest waiting video.
    "CREATE INDEX IF NOT EXISTS videos_status_created ON videos (status, created_at, completed_at)",
    # One user's month (their account page and their admin page).
    "CREATE INDEX IF NOT EXISTS videos_user_created ON videos (user_id, created_at, model, status)",
    # Credits granted, charged and refunded per day; one user's credits this month.
    "CREATE INDEX IF NOT EXISTS credit_transactions_usage_window ON credit_transactions (created_at, reason, delta)",
    "CREATE INDEX IF NOT EXISTS credit_transactions_user_created"
    " ON credit_transactions (user_id, created_at, reason, delta)",
    # Revenue from credit packs per day.
    "CREATE INDEX IF NOT EXISTS credit_purchases_created ON credit_purchases (created_at, currency, amount)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
