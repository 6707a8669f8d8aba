"""Jinja setup: one environment, used by Litestar for pages and directly for fragments sent over SSE."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import cache, lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app.config import ROOT
from app.tables import ACTIVE_STATUSES, FINISHED_STATUSES


def _time_ago(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    seconds = int((datetime.now(timezone.utc) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return ""


def _elapsed(start: datetime | None, end: datetime | None = None) -> str:
    """"1:05" between `start` and `end` (default: now); "" without a start."""
    if start is None:
        return ""
    end = end or datetime.now(timezone.utc)
    aware = [v if v.tzinfo else v.replace(tzinfo=timezone.utc) for v in (start, end)]
    seconds = max(0, int((aware[1] - aware[0]).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _date(value: datetime | None, fmt: str = "%d %b %Y") -> str:
    return value.strftime(fmt) if value else ""


def _number(value: int | None) -> str:
    return f"{value or 0:,}"


@lru_cache(maxsize=256)
def static_url(path: str) -> str:
    """`/static/<path>?v=<content hash>`: files can be cached long because a change changes the URL."""
    file = ROOT / "static" / path
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "0"
    return f"/static/{path}?v={digest}"


@lru_cache
@cache
def jinja_env() -> Environment:
    """The one Jinja environment (compiled templates are cached in it), for pages and SSE fragments."""
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time_ago=_time_ago, date=_date, number=_number)
    env.filters["elapsed"] = _elapsed
    env.globals["static_url"] = static_url
    env.globals.update(ACTIVE_STATUSES=ACTIVE_STATUSES, FINISHED_STATUSES=FINISHED_STATUSES)
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(jinja_env()))


def render(template_name: str, **context: Any) -> str:
    """Render a template outside a request (SSE fragments); callers pass everything it needs."""
    return jinja_env().get_template(template_name).render(**context)
