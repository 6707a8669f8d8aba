"""Public showcase API: what the home page shows, as cacheable JSON."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery, Parameter

from app.showcase import content
from app.showcase.content import MAX_PAGE_SIZE, ShowcasePage, ShowcaseVideo, TrialImage
from app.web.caching import public_json
from app.web.openapi import error_responses
from app.web.params import PageNumber


class ShowcaseApiController(Controller):
    path = "/api/v1/showcase"
    tags = ["showcase"]

    @get("/videos", name="api:showcase-videos", responses=error_responses(422))
    async def videos(
        self,
        request: Request,
        category: FromQuery[Annotated[str | None, Parameter(max_length=64, description="Only this category")]] = None,
        page: FromQuery[PageNumber] = 1,
        page_size: FromQuery[Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)]] = 12,
    ) -> Response[ShowcasePage]:
        """Active showcase videos in display order, optionally of one category, a page at a time."""
        return public_json(request, await content.videos_page(category or None, page, page_size))

    @get("/featured", name="api:showcase-featured")
    async def featured(self, request: Request) -> Response[list[ShowcaseVideo]]:
        """Featured showcase videos, in display order."""
        return public_json(request, await content.featured_videos())

    @get("/hero-videos", name="api:showcase-hero")
    async def hero_videos(self, request: Request) -> Response[list[ShowcaseVideo]]:
        """The videos of the home page's hero carousel, in display order."""
        return public_json(request, await content.hero_videos())

    @get("/trial-images", name="api:showcase-trial-images")
    async def trial_images(self, request: Request) -> Response[list[TrialImage]]:
        """Active trial images (product photos anyone can try the studio with), in display order."""
        return public_json(request, await content.trial_images())
