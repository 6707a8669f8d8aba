"""Seed content and the command line, run for real against a migrated database."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.config import ROOT
from app.media.render import probe
from app.media.storage import get_storage
from app.showcase.seed import DEMO_USERS, content_digest, seed
from app.tables import CreditTransactions, Plan, ShowcaseVideos, TrialImages, Users


async def _counts() -> tuple[int, int, int, int]:
    return (
        await Users.count(),
        await ShowcaseVideos.count(),
        await TrialImages.count(),
        await CreditTransactions.count(),
    )


async def test_seed_creates_demo_content_with_real_media(settings):
    added = await seed(quick=True)
    assert added == {"users": 3, "showcase_videos": 15, "trial_images": 6}
    plans = {u["email"]: u["subscription_plan"] for u in await Users.select(Users.email, Users.subscription_plan)}
    assert plans == {d.email: d.plan.value for d in DEMO_USERS}
    assert {c["category"] for c in await ShowcaseVideos.select(ShowcaseVideos.category)} == {
        "Product",
        "Fashion",
        "F&B",
        "Beauty",
        "Tech",
    }
    assert await ShowcaseVideos.count().where(ShowcaseVideos.is_hero == True) >= 1
    assert await ShowcaseVideos.count().where(ShowcaseVideos.is_featured == True) >= 1

    storage = get_storage()
    video = await ShowcaseVideos.objects().first()
    info = probe(storage.path(video.video_url.removeprefix("/media/")))
    assert info["codec"] == "h264" and info["seconds"] >= 1
    from PIL import Image

    for trial in await TrialImages.objects():
        with Image.open(storage.path(trial.storage_key)) as img:
            assert img.format in {"JPEG", "WEBP"} and img.size == (1280, 720)


async def test_seed_twice_changes_nothing(settings):
    await seed(quick=True)
    before, digest = await _counts(), content_digest(get_storage())
    assert await seed(quick=True) == {"users": 0, "showcase_videos": 0, "trial_images": 0}
    assert await _counts() == before
    assert content_digest(get_storage()) == digest


async def test_seeded_balances_come_from_the_ledger(settings):
    await seed(quick=True)
    for user in await Users.objects():
        rows = await CreditTransactions.select(CreditTransactions.delta).where(CreditTransactions.user == user.id)
        assert user.credits == sum(r["delta"] for r in rows)
    pro = await Users.objects().get(Users.subscription_plan == Plan.pro.value)
    assert pro.credits > 100


def _cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = {"DATABASE_URL": settings.database_url, "MEDIA_ROOT": str(settings.media_root)}
    import os

    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_cli_migrate_and_seed_are_idempotent(settings):
    assert _cli(settings, "migrate").returncode == 0
    first = _cli(settings, "seed", "--quick")
    assert first.returncode == 0, first.stderr
    assert "3 new users" in first.stdout
    second = _cli(settings, "seed", "--quick")
    assert "0 new users, 0 new showcase videos, 0 new trial images" in second.stdout


async def test_cli_create_admin_promotes_or_creates(settings):
    result = _cli(settings, "create-admin", "Boss@Example.com")
    assert result.returncode == 0, result.stderr
    boss = await Users.objects().get(Users.email == "boss@example.com")
    assert boss.is_admin and boss.credits == settings.signup_credits
    again = _cli(settings, "create-admin", "boss@example.com")
    assert again.returncode == 0 and await Users.count() == 1
    bad = _cli(settings, "create-admin", "not-an-email")
    assert bad.returncode != 0


def test_production_start_is_refused_with_the_variable_named(settings):
    import os

    env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": settings.database_url}
    result = subprocess.run(
        [sys.executable, "-c", "from app.asgi import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
