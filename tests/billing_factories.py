"""Rows the billing tests need, made through the same ledger the app uses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from app.billing import ledger
from app.tables import LedgerReason, Users, Videos


async def make_user(
    credits: int = 100,
    plan: str = "basic",
    status: str = "active",
    ends_in_days: float | None = 30,
    *,
    email: str | None = None,
    name: str = "Test User",
    is_admin: bool = False,
) -> Users:
    end = datetime.now(timezone.utc) + timedelta(days=ends_in_days) if ends_in_days is not None else None
    row = Users(
        email=email or f"u-{uuid.uuid4().hex[:10]}@example.com",
        name=name,
        subscription_plan=plan,
        subscription_status=status,
        subscription_end_date=end,
        is_admin=is_admin,
    )
    await row.save()
    if credits:
        await ledger.apply(row.id, credits, LedgerReason.signup)
    return await Users.objects().where(Users.id == row.id).first()


async def make_video(user_id: int, model: str = "sora-2") -> int:
    video = Videos(user=user_id, prompt="A shoe on a beach", model=model, duration=4, resolution="1280x720")
    await video.save()
    return video.id


async def balance(user_id: int) -> int:
    return (await Users.select(Users.credits).where(Users.id == user_id).first())["credits"]
