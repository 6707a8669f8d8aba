"""Public pages."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template


class PagesController(Controller):
    include_in_schema = False

    @get("/", name="home")
    async def home(self) -> Template:
        return Template("pages/home.html", context={})
