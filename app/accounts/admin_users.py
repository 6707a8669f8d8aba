"""What the admin users page needs: finding accounts by email or name."""

from __future__ import annotations

from datetime import UTC, datetime

from app.db import is_postgres
from app.errors import NotFound, ValidationFailed
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


async def set_plan_from_form(user_id: int, plan: str, end_date: str, grant: bool) -> Users:
    """The admin form: a plan, an optional end date (YYYY-MM-DD, through that whole day, UTC)."""
    from app.billing import plans

    user = await get_user_or_404(user_id)
    end = None
    text = (end_date or "").strip()
    if text and plan != "free":
        try:
            day = datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            raise ValidationFailed("Enter the end date as YYYY-MM-DD.") from None
        end = day.replace(hour=23, minute=59, second=59, tzinfo=UTC)
    return await plans.set_plan(user, plan, 1, end_date=end, grant=grant)


async def grant_from_form(user_id: int, amount: str, reason: str) -> Users:
    """The admin form: a whole number of credits (negative removes) and the reason the user will read."""
    from app.billing import charges

    user = await get_user_or_404(user_id)
    try:
        value = int((amount or "").strip().replace(",", ""))
    except ValueError:
        raise ValidationFailed("Enter a whole number of credits, like 500 or -100.") from None
    await charges.grant(user.id, value, reason)
    return await get_user_or_404(user_id)
