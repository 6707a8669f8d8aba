"""Piccolo configuration: the engine comes from DATABASE_URL."""

from piccolo.conf.apps import AppRegistry

from app.config import get_settings
from app.db import make_engine

DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
