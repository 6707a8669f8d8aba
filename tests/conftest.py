"""Test harness: real SQLite and PostgreSQL databases, real Redis, the app behind Litestar's test client.

The environment is fixed here, before anything imports the app (settings are cached on first use).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="adsvideo-tests-"))
for _name in (
    "REDIS_URL",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "GOOGLE_REDIRECT_URI",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "RUNWAYML_API_SECRET",
    "PUBLIC_URL",
    "ALLOWED_ORIGINS",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "VEO_BASE_URL",
):
    os.environ.pop(_name, None)
os.environ.update(
    ADSVIDEO_ENV_FILE="",
    APP_ENV="test",
    DATABASE_URL=f"sqlite:///{_TMP}/bootstrap.db",
    MEDIA_ROOT=str(_TMP / "media"),
    MOCK_GENERATION_SECONDS="0",
    PAGE_CACHE_SECONDS="0",  # tests read their own writes at once; tests/integration/test_page_cache.py turns it on
    USE_MOCK_SORA="true",
    USE_MOCK_RUNWAY="true",
    USE_MOCK_VEO="true",
    # Many tests sign in and create from one address; the limit tests set their own rates.
    RATE_LIMIT_SIGN_IN="0/minute",
    RATE_LIMIT_REFRESH="0/minute",
    RATE_LIMIT_UPLOAD="0/minute",
    RATE_LIMIT_VALIDATE="0/minute",
    RATE_LIMIT_GENERATE="0/minute",
)

import asyncio  # noqa: E402
import threading  # noqa: E402

import asyncpg  # noqa: E402
import pytest  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from app import db  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.migrate import migrate  # noqa: E402
from tests.services import POSTGRES_URL, require  # noqa: E402


def run_blocking(coro) -> object:
    """Run a coroutine to completion on a private thread: works whether or not a loop is running here."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def pytest_collection_modifyitems(config, items):
    """Browser tests last: the quick feedback first, and Playwright's loop never precedes async tests.

    The PostgreSQL pass (TEST_DATABASE=postgres) keeps only the tests whose database it changes: a test
    without a database, or one that names its backends itself, already ran the same way in the SQLite pass.
    """
    if os.environ.get("TEST_DATABASE") == "postgres":
        again, already = [], []
        for item in items:
            (again if _uses_the_default_database(item) else already).append(item)
        config.hook.pytest_deselected(items=already)
        items[:] = again
    items.sort(key=lambda item: "/e2e/" in str(item.path))


def _uses_the_default_database(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return "database_url" in item.fixturenames and not (callspec and "database_url" in callspec.params)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _migrate_into(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    engine = db.make_engine(url)
    db.bind_engine(engine)
    await migrate()


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    """A SQLite file with every migration applied, copied for each test."""
    path = _TMP / "template.db"
    run_blocking(_migrate_into(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> str:
    """A migrated PostgreSQL database used as the TEMPLATE of each test's database."""
    require("postgres")
    name = f"adsvideo_tmpl_{os.getpid()}"

    async def create() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        await _migrate_into(_with_database(POSTGRES_URL, name))
        await db.close_pool(db.current_engine())

    run_blocking(create())
    yield name
    run_blocking(_drop_database(name))


async def _drop_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", None) or os.environ.get("TEST_DATABASE", "sqlite")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for this test. Parametrize indirectly with "sqlite"/"postgres"."""
    backend = _backend(request)
    if backend == "sqlite":
        path = tmp_path / "app.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    name = request.getfixturevalue("postgres_database")
    run_blocking(_empty(name))
    yield _with_database(POSTGRES_URL, name)


@pytest.fixture(scope="session")
def postgres_database(postgres_template: str) -> str:
    """This process's PostgreSQL database, copied from the template once and emptied before each test
    (emptying is ten times cheaper than copying a database per test, and leaves the same state)."""
    name = f"adsvideo_t_{os.getpid()}"

    async def create() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            # FILE_COPY (PostgreSQL 15+) copies a small template about twice as fast as the WAL_LOG default.
            strategy = " STRATEGY FILE_COPY" if conn.get_server_version().major >= 15 else ""
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"{strategy}')
        finally:
            await conn.close()

    run_blocking(create())
    yield name
    run_blocking(_drop_database(name))


async def _empty(name: str) -> None:
    """What DROP DATABASE WITH (FORCE) would do to a previous test's leftovers, then every table emptied and
    every id sequence restarted; the migrations' own bookkeeping stays."""
    conn = await asyncpg.connect(_with_database(POSTGRES_URL, name))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migration'"
        )
        await conn.execute(
            "TRUNCATE " + ", ".join(f'"{row["tablename"]}"' for row in tables) + " RESTART IDENTITY CASCADE"
        )
    finally:
        await conn.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings for this test: its own database and media folder; the tables bound to that database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "media"))
    get_settings.cache_clear()
    db.bind_engine(db.make_engine(database_url))
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def cold_caches():
    """Every test has a database of its own: nothing a process cached from another test's may be served."""
    from app.showcase import home_cache

    run_blocking(home_cache.invalidate())


_APPS: dict[str, object] = {}


@pytest.fixture
def app(settings):
    """The app for these settings, built once per distinct configuration: the database and the media
    folder are looked up per request, so tests that differ only in those share one app."""
    from app.asgi import create_app
    from tests.brokers import use_broker

    use_broker(settings.redis_url)
    db.enable_wal(settings.database_url)
    key = settings.model_dump_json(exclude={"database_url", "media_root"})
    if key not in _APPS:
        _APPS[key] = create_app(settings)
    return _APPS[key]


@pytest.fixture
async def client(app, settings):
    """The app behind Litestar's async test client (lifespan runs: the embedded worker is up)."""
    from app.asgi import session_config

    async with AsyncTestClient(app=app, session_config=session_config(settings)) as test_client:
        yield test_client


from tests.emulators import (  # noqa: E402  (fixtures: the emulators' base URLs)
    openai_emulator,
    runway_emulator,
    veo_emulator,
)
from tests.s3_server import s3_bucket, s3_server, s3_with_auth  # noqa: E402  (fixtures: real S3 servers)
