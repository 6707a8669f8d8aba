"""Public pages (the home page lives in app/controllers/home.py)."""

from __future__ import annotations

from litestar import Controller


class PagesController(Controller):
    include_in_schema = False
