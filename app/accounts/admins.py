"""Administrators."""

from __future__ import annotations

from app.billing import ledger
from app.config import get_settings
from app.errors import ValidationFailed
from app.tables import LedgerReason, Users


async def make_admin(email: str) -> bool:
    """Flag the user with `email` as admin; create the account (with its signup grant) if missing."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationFailed("Give a valid email address.")
    updated = await Users.update({Users.is_admin: True}).where(Users.email == email).returning(Users.id)
    if updated:
        return False
    user = Users(email=email, name=email.split("@")[0], is_admin=True)
    await user.save()
    await ledger.apply(user.id, get_settings().signup_credits, LedgerReason.signup, note="Welcome credits")
    return True
