"""Users: lookups shared by the web layer and other services."""

from __future__ import annotations

from app.tables import Users


async def get_user(user_id: int) -> Users | None:
    return await Users.objects().where(Users.id == user_id).first()


async def get_user_by_email(email: str) -> Users | None:
    return await Users.objects().where(Users.email == email.strip().lower()).first()


# --- the public "recent creators" strip (home page, GET /api/v1/users/recent) -----------------------

import msgspec  # noqa: E402


class RecentUser(msgspec.Struct):
    """A recently joined user as the public sees them: a display name and an avatar, never an email."""

    name: str
    avatar_url: str | None


class RecentUsers(msgspec.Struct):
    users: list[RecentUser]
    total: int


def _display_name(name: str | None) -> str:
    name = (name or "").strip()
    return name.split()[0] if name else "New creator"


async def recent_users(limit: int = 5) -> RecentUsers:
    """The newest users (first names and avatars only) and the real number of users."""
    rows = await Users.select(Users.name, Users.avatar_url).order_by(Users.created_at, ascending=False).order_by(
        Users.id, ascending=False
    ).limit(limit)
    total = await Users.count()
    return RecentUsers(
        users=[RecentUser(name=_display_name(r["name"]), avatar_url=r["avatar_url"]) for r in rows], total=total
    )
