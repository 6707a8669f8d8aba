"""Templates name their links by route (`url_for('area:action')`); a literal internal path is a link that
silently breaks when a route moves."""

from __future__ import annotations

import re

import pytest

from app.config import ROOT

TEMPLATES = ROOT / "templates"
# The emulators stand in for third-party sites (Google's consent page), outside our routes.
OWN = sorted(p for p in TEMPLATES.rglob("*.html") if "emulators" not in p.parts)

LINK_ATTRIBUTE = re.compile(
    r"""\b(href|src|action|formaction|poster|sse-connect|hx-(?:get|post|put|patch|delete|push-url))\s*=\s*["']\s*/(?!/)"""
)
# A path spelled as a string inside Jinja code: {% set url = "/videos?" %}, {{ "/create" ~ ... }}.
JINJA_BLOCK = re.compile(r"\{[{%].*?[%}]\}", re.S)
PATH_LITERAL = re.compile(r"""["']/[a-z_]""")


def _offences(text: str) -> list[str]:
    found = [m.group(0) for m in LINK_ATTRIBUTE.finditer(text)]
    for block in JINJA_BLOCK.findall(text):
        if block.startswith("{#"):
            continue
        found += [f"{m.group(0)}… in {block[:60]!r}" for m in PATH_LITERAL.finditer(block)]
    return found


def test_the_check_catches_literal_paths():
    assert _offences('<a href="/pricing">') and _offences("<form hx-post='/create'>")
    assert _offences('{% set base = "/videos?" ~ key %}')
    assert not _offences("<a href=\"{{ url_for('billing:pricing') }}\">") and not _offences('<a href="#showcase">')
    assert not _offences('<a href="https://example.com/x">') and not _offences('<img src="//cdn.example/x.png">')


@pytest.mark.parametrize("path", OWN, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_literal_internal_path(path):
    assert _offences(path.read_text()) == [], f"{path.relative_to(TEMPLATES)}: use url_for('area:action')"


STYLE = re.compile(r"^[a-z]+:[a-z]+(?:-[a-z]+)*$")


def _handlers():
    from app.asgi import create_app
    from app.config import get_settings

    app = create_app(get_settings())
    return [h for route in app.routes for h in getattr(route, "route_handlers", [])]


def test_every_route_of_ours_has_an_area_action_name():
    ours = [h for h in _handlers() if h.fn.__module__.startswith("app.") and "OPTIONS" not in h.http_methods]
    assert ours
    unnamed = sorted(f"{h.fn.__module__}.{h.fn.__name__}" for h in ours if not h.name)
    assert unnamed == []
    assert sorted(h.name for h in ours if not STYLE.match(h.name)) == []


def test_every_url_for_names_an_area_action_route():
    """Route names in templates are `area:action` and exist."""
    names = {h.name for h in _handlers() if h.name}
    used = set()
    for path in OWN:
        used |= set(re.findall(r"""url_for\(\s*["']([^"']+)["']""", path.read_text()))
    assert used, "no template uses url_for"
    assert sorted(used - names) == [], "url_for names a route that does not exist"
    assert sorted(n for n in used if not STYLE.match(n) and n != "static") == []
