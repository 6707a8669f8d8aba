"""Users: lookups shared by the web layer and other services."""

from __future__ import annotations

from app.tables import Users


async def get_user(user_id: int) -> Users | None:
    return await Users.objects().where(Users.id == user_id).first()


async def get_user_by_email(email: str) -> Users | None:
    return await Users.objects().where(Users.email == email.strip().lower()).first()
