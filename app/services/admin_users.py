"""What the admin users page needs: finding accounts by email or name."""

from __future__ import annotations

from app.db import is_postgres
from app.errors import NotFound
from app.tables import Users


async def search_users(query: str, limit: int = 50) -> list[Users]:
    """Users whose email or name contains `query` (any case), newest first; the newest when empty."""
    q = Users.objects().order_by(Users.id, ascending=False).limit(limit)
    text = (query or "").strip()[:100]
    if text:
        pattern = f"%{text}%"  # % and _ in a query act as wildcards; harmless for an admin search
        if is_postgres(Users._meta.db):
            q = q.where(Users.email.ilike(pattern) | Users.name.ilike(pattern))
        else:  # SQLite's LIKE already ignores ASCII case
            q = q.where(Users.email.like(pattern) | Users.name.like(pattern))
    return await q


async def get_user_or_404(user_id: int) -> Users:
    user = await Users.objects().where(Users.id == user_id).first()
    if user is None:
        raise NotFound("No such user.")
    return user
