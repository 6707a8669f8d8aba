"""Jinja setup: one environment, used by Litestar for pages and directly for fragments sent over SSE."""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app.config import ROOT, get_settings
from app.tables import ACTIVE_STATUSES, FINISHED_STATUSES
from app.videos import naming


def _time_ago(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return ""


def _elapsed(start: datetime | None, end: datetime | None = None) -> str:
    """ "1:05" between `start` and `end` (default: now); "" without a start."""
    if start is None:
        return ""
    end = end or datetime.now(UTC)
    aware = [v if v.tzinfo else v.replace(tzinfo=UTC) for v in (start, end)]
    seconds = max(0, int((aware[1] - aware[0]).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _date(value: datetime | None, fmt: str = "%d %b %Y") -> str:
    return value.strftime(fmt) if value else ""


def _number(value: int | None) -> str:
    return f"{value or 0:,}"


# The app whose routes name the links of fragments rendered outside a request (SSE). Every app built
# by `create_app` has the same routes, so the latest one answers for all.
_routes: dict[str, Litestar] = {}


def use_routes(app: Litestar) -> None:
    """Let templates rendered outside a request reverse route names with `app`'s routes."""
    _routes["app"] = app


def _app_for(context: Any) -> Litestar:
    request = context.get("request")
    if request is not None:
        return request.app
    try:
        return _routes["app"]
    except KeyError:
        raise RuntimeError("url_for outside a request needs an app: call use_routes(app) first") from None


# Reversed paths per app: a page asks for the same few dozen on every render, and an app's routes never
# change. Only the last few apps are remembered (one in production; tests build many).
_reversed: dict[int, tuple[Litestar, dict[tuple, str]]] = {}
_APPS_MAX = 4
_REVERSED_MAX = 4096


def _paths_of(app: Litestar) -> dict[tuple, str]:
    entry = _reversed.get(id(app))
    if entry is None or entry[0] is not app:
        if len(_reversed) >= _APPS_MAX:
            _reversed.clear()
        entry = _reversed[id(app)] = (app, {})
    return entry[1]


def _reverse(app: Litestar, route_name: str, path_parameters: dict[str, Any]) -> str:
    paths = _paths_of(app)
    try:
        key = (route_name, *sorted(path_parameters.items())) if path_parameters else route_name
        return paths[key]
    except TypeError:  # an unhashable parameter: nothing to remember it by
        return app.route_reverse(route_name, **path_parameters)
    except KeyError:
        if len(paths) >= _REVERSED_MAX:
            paths.clear()
        path = paths[key] = app.route_reverse(route_name, **path_parameters)
        return path


@pass_context
def url_for(context: Any, route_name: str, /, **path_parameters: Any) -> str:
    """The path of the route named `route_name` (`area:action`), inside a request or not."""
    return _reverse(_app_for(context), route_name, path_parameters)


@lru_cache(maxsize=256)
def _digest(path: str) -> str:
    file = ROOT / "static" / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "0"


@pass_context
def static_url(context: Any, path: str) -> str:
    """The static file's URL with `?v=<content hash>`: cached long, because a change changes the URL."""
    return f"{_reverse(_app_for(context), 'static', {'file_path': path})}?v={_digest(path)}"


class _Environment(Environment):
    """Each template keeps its globals as a plain dict: Jinja's default ChainMap is copied key by key, in
    Python, into every context, i.e. on every render and `{% include %}`. `jinja_env` completes the globals
    before any template loads, as Jinja asks, so a snapshot sees them all."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


@lru_cache
def jinja_env() -> Environment:
    """The one Jinja environment (compiled templates are cached in it), for pages and SSE fragments."""
    env = _Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file's mtime on each render is for editing templates live (DEBUG) only.
        auto_reload=get_settings().debug,
        # A plain dict of compiled templates: Jinja's LRU (400) moves every hit to the back of a list, a
        # scan per `{% include %}`, and the app's templates are far fewer than that anyway.
        cache_size=-1,
    )
    env.filters.update(time_ago=_time_ago, date=_date, number=_number)
    env.filters["elapsed"] = _elapsed
    env.filters.update(naming.FILTERS)
    env.globals.update(url_for=url_for, static_url=static_url)
    env.globals.update(ACTIVE_STATUSES=ACTIVE_STATUSES, FINISHED_STATUSES=FINISHED_STATUSES)
    _litestar_globals(env)
    return env


def _litestar_globals(env: Environment) -> JinjaTemplateEngine:
    """Litestar's template callables (`csrf_token`, ...) on `env`, with our `url_for` in place of its own:
    Litestar's needs a request, ours also serves SSE fragments."""
    engine = JinjaTemplateEngine.from_environment(env)
    env.globals["url_for"] = url_for
    return engine


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=_litestar_globals(jinja_env()))


def render(template_name: str, **context: Any) -> str:
    """Render a template outside a request (SSE fragments); callers pass everything it needs."""
    return jinja_env().get_template(template_name).render(**context)
