"""Our stylesheets and scripts are well-formed: a lost brace silently moves every later rule into a media query."""

from __future__ import annotations

import re

import pytest

from app.config import ROOT

STATIC = ROOT / "static"


def _strip_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


@pytest.mark.parametrize("path", sorted((STATIC / "css").glob("*.css")), ids=lambda p: p.name)
def test_css_blocks_are_balanced_and_media_queries_hold_only_rules(path):
    css = _strip_comments(path.read_text())
    depth = 0
    for number, line in enumerate(css.splitlines(), 1):
        if line.lstrip().startswith("@media"):
            assert depth == 0, f"{path.name}:{number}: @media opened inside another block"
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{path.name}:{number}: a closing brace with no block"
    assert depth == 0, f"{path.name}: {depth} block(s) never closed"


def test_vendored_files_match_their_readme():
    import hashlib

    readme = (STATIC / "vendor" / "README.md").read_text()
    for name, digest in re.findall(r"\| (\S+\.(?:js|css)) \|[^|]+\|[^|]+\| ([0-9a-f]{64}) \|", readme):
        assert hashlib.sha256((STATIC / "vendor" / name).read_bytes()).hexdigest() == digest, name
