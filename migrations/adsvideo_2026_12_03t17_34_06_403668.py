from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T17:34:06:403668"
VERSION = "1.38.0"
DESCRIPTION = "Notification dedupe key"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="adsvideo", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Notifications",
        tablename="notifications",
        column_name="dedupe_key",
        db_column_name="dedupe_key",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 80,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
