"""What we sell through Stripe, in one table: the monthly plans and the credit packs, with their money amounts.

Stripe holds the prices; each offer names the setting that maps it to its Stripe price id. The amounts
here are what /pricing shows and what the emulator charges; in production they must match the prices
made in the Stripe Dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.billing.plans import PLANS
from app.config import Settings
from app.errors import ValidationFailed
from app.tables import Plan

CURRENCY = "usd"


@dataclass(frozen=True)
class Offer:
    key: str  # "basic", "pro", "pack_small", ...
    kind: Literal["plan", "pack"]
    title: str
    credits: int  # each month for a plan; once for a pack
    amount: int  # in cents, per month for a plan
    emulator_price_id: str

    @property
    def setting(self) -> str:
        return f"stripe_price_{self.key}"

    @property
    def money(self) -> str:
        return format_money(self.amount)

    def price_id(self, settings: Settings) -> str | None:
        configured = getattr(settings, self.setting)
        if configured:
            return configured
        return self.emulator_price_id if settings.use_stripe_emulator else None


PLAN_OFFERS: dict[str, Offer] = {
    "basic": Offer("basic", "plan", "Basic", PLANS[Plan.basic].monthly_credits, 1_900, "price_emu_basic_monthly"),
    "pro": Offer("pro", "plan", "Pro", PLANS[Plan.pro].monthly_credits, 4_900, "price_emu_pro_monthly"),
}
PACK_OFFERS: dict[str, Offer] = {
    "small": Offer("pack_small", "pack", "500 credits", 500, 900, "price_emu_pack_small"),
    "medium": Offer("pack_medium", "pack", "1,500 credits", 1_500, 2_400, "price_emu_pack_medium"),
    "large": Offer("pack_large", "pack", "5,000 credits", 5_000, 6_900, "price_emu_pack_large"),
}


def format_money(cents: int) -> str:
    return f"${cents // 100:,}" if cents % 100 == 0 else f"${cents / 100:,.2f}"


def plan_offer(plan: str) -> Offer:
    offer = PLAN_OFFERS.get(str(plan))
    if offer is None:
        raise ValidationFailed(f"Unknown plan “{plan}”. Choose basic or pro.")
    return offer


def pack_offer(pack: str) -> Offer:
    offer = PACK_OFFERS.get(str(pack))
    if offer is None:
        raise ValidationFailed(f"Unknown credit pack “{pack}”. Choose one of: {', '.join(PACK_OFFERS)}.")
    return offer


def offer_for_price(settings: Settings, price_id: str | None) -> Offer | None:
    """The offer a Stripe price id stands for (None for a price we do not sell)."""
    for offer in (*PLAN_OFFERS.values(), *PACK_OFFERS.values()):
        if price_id and offer.price_id(settings) == price_id:
            return offer
    return None


def emulator_catalogue() -> list[dict]:
    """The prices the Stripe emulator starts with: every offer, under its emulator price id."""
    return [
        {
            "id": o.emulator_price_id,
            "name": f"AdsVideo {o.title}",
            "unit_amount": o.amount,
            "currency": CURRENCY,
            "interval": "month" if o.kind == "plan" else None,
            "lookup_key": o.key,
        }
        for o in (*PLAN_OFFERS.values(), *PACK_OFFERS.values())
    ]
