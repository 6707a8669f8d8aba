"""Database engines: one URL picks SQLite or PostgreSQL; SQLite is tuned for a web process plus a worker."""

from __future__ import annotations

import sqlite3
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType


class _TunedConnection(sqlite3.Connection):
    """In WAL mode synchronous=NORMAL is still safe against corruption and makes each commit far cheaper."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous = NORMAL")


class AppSQLiteEngine(SQLiteEngine):
    """SQLite with a busy timeout and IMMEDIATE write transactions.

    A DEFERRED transaction that reads and then writes gets SQLITE_BUSY at once when another
    process holds the write lock (busy_timeout does not apply to lock upgrades), so every
    transaction takes the write lock up front and waits for it instead.
    """

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.immediate,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return super().transaction(transaction_type=transaction_type, allow_nested=allow_nested)


def sqlite_path(url: str) -> str:
    return url[len("sqlite:///") :]


def make_engine(url: str) -> Engine:
    """Build the engine for `DATABASE_URL`."""
    if url.startswith("sqlite:///"):
        return AppSQLiteEngine(path=sqlite_path(url), timeout=30, factory=_TunedConnection)
    if url.startswith(("postgres://", "postgresql://")):
        # asyncpg accepts both schemes; managed databases often forbid CREATE EXTENSION.
        return PostgresEngine(config={"dsn": url}, extensions=())
    raise ValueError("DATABASE_URL must start with sqlite:///, postgres:// or postgresql://")


def enable_wal(url: str) -> None:
    """Switch a SQLite file to WAL (persisted in the file): readers never block the one writer."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(sqlite_path(url), timeout=30) as conn:
            conn.execute("PRAGMA journal_mode=WAL")


def bind_engine(engine: Engine) -> None:
    """Point every table (and piccolo_conf.DB, used by migrations) at `engine`."""
    from piccolo.apps.migrations.tables import Migration

    import piccolo_conf
    from app.tables import ALL_TABLES

    piccolo_conf.DB = engine
    for table in [*ALL_TABLES, Migration]:
        table._meta.db = engine


def current_engine() -> Engine:
    from app.tables import Users

    return Users._meta.db


async def ping(engine: Engine | None = None) -> None:
    """Raise if the database cannot answer a trivial query."""
    engine = engine or current_engine()
    await engine.run_ddl("SELECT 1")


async def _keep_session(connection: Any) -> None:
    """Nothing to undo: the app never leaves session state (SET, LISTEN, advisory locks) on a connection."""


async def start_pool(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        # asyncpg still rolls back an open transaction on release; skipping its RESET ALL saves a round
        # trip to the server after every query.
        await engine.start_connection_pool(max_size=10, reset=_keep_session)


async def close_pool(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


def is_postgres(engine: Any) -> bool:
    return isinstance(engine, PostgresEngine)
