"""Everything the home page shows, read in a fixed handful of queries and cached briefly.

The home page is the most requested page, so its data comes from `home_cache` (30 s, or until an admin
changes showcase content); a cold read runs six small queries whatever the number of showcase rows.
"""

from __future__ import annotations

import asyncio

import msgspec

from app.accounts.users import RecentUsers, recent_users
from app.showcase import content, home_cache
from app.showcase.content import ShowcaseVideo, TrialImage

GRID_PAGE_SIZE = 9


class ShowcaseGrid(msgspec.Struct):
    categories: list[str]
    category: str | None
    page: int
    items: list[ShowcaseVideo]
    has_more: bool


class HomeData(msgspec.Struct):
    hero: list[ShowcaseVideo]
    featured: list[ShowcaseVideo]
    grid: ShowcaseGrid
    trial_images: list[TrialImage]
    recent: RecentUsers

    @property
    def og_image(self) -> str | None:
        """A poster for link previews: the first hero's, else any showcase poster."""
        for video in [*self.hero, *self.featured, *self.grid.items]:
            if video.poster_url:
                return video.poster_url
        return None


def _normal(category: str | None) -> str | None:
    category = (category or "").strip()
    return category[:64] or None


async def _cached(key: str, kind: type, load):
    raw = await home_cache.get(key)
    if raw is not None:
        return msgspec.msgpack.decode(raw, type=kind)
    value = await load()
    await home_cache.put(key, msgspec.msgpack.encode(value))
    return value


async def _load_grid(category: str | None, page: int) -> ShowcaseGrid:
    categories, (items, has_more) = await asyncio.gather(
        content.categories(), content.grid(category, page, GRID_PAGE_SIZE)
    )
    return ShowcaseGrid(categories=categories, category=category, page=page, items=items, has_more=has_more)


async def showcase_grid(category: str | None = None, page: int = 1) -> ShowcaseGrid:
    """The filterable grid alone (what an htmx filter click swaps in)."""
    category = _normal(category)
    return await _cached(f"grid:{category or ''}:{page}", ShowcaseGrid, lambda: _load_grid(category, page))


async def _load_home(category: str | None, page: int) -> HomeData:
    (hero, featured), grid, trials, recent = await asyncio.gather(
        content.hero_and_featured(),
        _load_grid(category, page),
        content.trial_images(),
        recent_users(),
    )
    return HomeData(hero=hero, featured=featured, grid=grid, trial_images=trials, recent=recent)


async def home_data(category: str | None = None, page: int = 1) -> HomeData:
    category = _normal(category)
    return await _cached(f"home:{category or ''}:{page}", HomeData, lambda: _load_home(category, page))
