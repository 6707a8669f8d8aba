"""Several web processes need a shared store: the app refuses WEB_CONCURRENCY > 1 without REDIS_URL."""

from __future__ import annotations

import pytest

from app.config import ConfigError, Settings


def test_several_web_processes_without_redis_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY.*REDIS_URL"):
        Settings(_env_file=None, web_concurrency=2).check_production()


def test_several_web_processes_with_redis_or_one_without_are_fine():
    Settings(_env_file=None, web_concurrency=4, redis_url="redis://127.0.0.1:6379/0").check_production()
    Settings(_env_file=None, web_concurrency=1).check_production()
