"""The single Piccolo app; its migrations live in the top-level `migrations/` folder."""

from piccolo.conf.apps import AppConfig

from app.config import ROOT
from app.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="adsvideo",
    migrations_folder_path=str(ROOT / "migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
