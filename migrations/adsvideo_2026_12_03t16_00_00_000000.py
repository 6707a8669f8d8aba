"""Provider-job slots: which jobs of a user hold one of their plan's places in flight."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Job slots (per-user cap on provider jobs in flight)"

STATEMENTS = [
    # One row per job in flight: (kind, ref_id) names it ("video", videos.id), user_id whose cap it uses.
    "CREATE TABLE IF NOT EXISTS job_slots ("
    " kind VARCHAR(16) NOT NULL,"
    " ref_id INTEGER NOT NULL,"
    " user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " acquired_at BIGINT NOT NULL,"
    " PRIMARY KEY (kind, ref_id))",
    "CREATE INDEX IF NOT EXISTS job_slots_user_id ON job_slots (user_id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="adsvideo", description=DESCRIPTION)

    async def run():
        from piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
