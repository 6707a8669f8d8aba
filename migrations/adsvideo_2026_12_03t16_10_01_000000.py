"""Stripe payments: the constraints the column definitions cannot express (SQLite and PostgreSQL alike)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T16:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Stripe payments: one customer per user, one ledger row per payment reference"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS users_stripe_customer_id ON users (stripe_customer_id) "
    "WHERE stripe_customer_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS users_stripe_subscription_id ON users (stripe_subscription_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS credit_tx_one_row_per_reference ON credit_transactions (reference) "
    "WHERE reference IS NOT NULL",
]

async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
