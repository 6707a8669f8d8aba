"""The public home page; a filter click (htmx) gets just the showcase grid, from the same partial."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, Parameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from app.showcase import home

VARY = {"Vary": "HX-Request"}


class HomeController(Controller):
    include_in_schema = False

    @get("/", name="home:index")
    async def home(
        self,
        request: HTMXRequest,
        category: FromQuery[Annotated[str | None, Parameter(max_length=64)]] = None,
        page: FromQuery[Annotated[int, Parameter(ge=1, le=1000)]] = 1,
    ) -> Template:
        if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
            grid = await home.showcase_grid(category, page)
            return Template("partials/showcase/_showcase_grid.html", context={"grid": grid}, headers=VARY)
        data = await home.home_data(category, page)
        og_image = str(request.base_url).rstrip("/") + data.og_image if data.og_image else None
        return Template(
            "pages/showcase/home.html",
            context={"home": data, "grid": data.grid, "og_image": og_image, "canonical": str(request.base_url)},
            headers=VARY,
        )
