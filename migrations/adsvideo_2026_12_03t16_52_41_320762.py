from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Renditions(Table, tablename="renditions", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-12-03T16:52:41:320762"
VERSION = "1.38.0"
DESCRIPTION = "Share links to renditions"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="adsvideo", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="ShareLinks",
        tablename="share_links",
        column_name="rendition",
        db_column_name="rendition_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Renditions,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "rendition_id",
            "secret": False,
        },
        schema=None,
    )

    return manager
