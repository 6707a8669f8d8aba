"""Constraints the column definitions cannot express, written to run on SQLite and PostgreSQL alike."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T00:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Ledger and idempotency unique constraints"

STATEMENTS = [
    # One debit and at most one refund per charge of a video: the database enforces "exactly once".
    "CREATE UNIQUE INDEX IF NOT EXISTS credit_tx_one_debit_per_charge "
    "ON credit_transactions (video_id, charge_seq) WHERE reason = 'generation'",
    "CREATE UNIQUE INDEX IF NOT EXISTS credit_tx_one_refund_per_charge "
    "ON credit_transactions (video_id, charge_seq) WHERE reason = 'refund'",
    # A retried POST with the same Idempotency-Key finds the video it already made.
    "CREATE UNIQUE INDEX IF NOT EXISTS videos_user_idempotency_key "
    "ON videos (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS video_events_video_id_id ON video_events (video_id, id)",
    "CREATE INDEX IF NOT EXISTS showcase_videos_order ON showcase_videos (\"order\")",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
