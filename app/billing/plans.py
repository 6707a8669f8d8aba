"""Plans: what each one grants each month and unlocks; assigning a plan to a user."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

from app.billing import ledger, model_catalogue
from app.errors import NotFound, ValidationFailed
from app.tables import LedgerReason, Plan, SubscriptionStatus, Users

MODEL_NAMES = {m.id: m.name for m in model_catalogue.MODELS}
SIZE_NAMES = {size: model_catalogue.size_label(size) for m in model_catalogue.MODELS for size in m.all_sizes}


def _models_for(plan: str) -> tuple[str, ...]:
    return tuple(m.id for m in model_catalogue.MODELS if plan in m.plans)


def _sizes_for(plan: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for m in model_catalogue.MODELS if plan in m.plans for s in m.all_sizes))


@dataclass(frozen=True)
class PlanInfo:
    plan: Plan
    title: str
    monthly_credits: int
    models: tuple[str, ...]
    sizes: tuple[str, ...]
    summary: str

    @property
    def can_generate(self) -> bool:
        return bool(self.models)


# The models (and so the sizes) each plan may use come from the catalogue's `plans` column.
PLANS: dict[Plan, PlanInfo] = {
    Plan.free: PlanInfo(
        Plan.free,
        "Free",
        0,
        (),
        (),
        "Browse the showcase, upload product photos and try the studio.",
    ),
    Plan.basic: PlanInfo(
        Plan.basic,
        "Basic",
        1_000,
        _models_for("basic"),
        _sizes_for("basic"),
        "Make HD ad videos with Veo 3.1 Fast, Runway and Sora 2.",
    ),
    Plan.pro: PlanInfo(
        Plan.pro,
        "Pro",
        5_000,
        _models_for("pro"),
        _sizes_for("pro"),
        "More credits, Veo 3.1 and Sora 2 Pro, and larger sizes.",
    ),
}


def plan_info(plan: str | Plan) -> PlanInfo:
    try:
        return PLANS[Plan(plan)]
    except ValueError:
        raise ValidationFailed(f"Unknown plan “{plan}”. Choose free, basic or pro.") from None


def allowed(plan: str | Plan, model: str, size: str) -> tuple[bool, str]:
    """Whether `plan` may make a `size` video with `model`, and if not, why (a sentence for the user)."""
    info = plan_info(plan)
    if not info.can_generate:
        return False, "The Free plan cannot generate videos. Choose the Basic or Pro plan."
    if model not in info.models:
        needs = next((p.title for p in PLANS.values() if model in p.models), None)
        if needs is None:
            return False, f"Unknown model “{model}”."
        return False, f"{MODEL_NAMES.get(model, model)} needs the {needs} plan."
    model_sizes = model_catalogue.get(model).all_sizes if model_catalogue.get(model) else []
    if size not in model_sizes:
        return False, f"{MODEL_NAMES.get(model, model)} does not make {size}. Choose one of: {', '.join(model_sizes)}."
    return True, ""


def add_months(start: datetime, months: int) -> datetime:
    """`start` moved by whole calendar months (31 Jan + 1 month = 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


async def set_plan(
    user: Users | int,
    plan: str | Plan,
    months: int = 1,
    *,
    end_date: datetime | None = None,
    grant: bool = True,
) -> Users:
    """Put a user on `plan` from now for `months` (or until `end_date`), active.

    A paid plan also credits one month's grant as a `plan_grant` ledger row (unless `grant` is
    false, e.g. when an administrator only moves the end date). Free clears the dates.
    """
    info = plan_info(plan)
    user_id = user if isinstance(user, int) else user.id
    now = datetime.now(UTC)
    if info.plan is Plan.free:
        start, end = None, None
    else:
        if end_date is None:
            if not isinstance(months, int) or months < 1 or months > 120:
                raise ValidationFailed("Months must be a whole number from 1 to 120.")
            end_date = add_months(now, months)
        if end_date.tzinfo is None:
            end_date = end_date.replace(tzinfo=UTC)
        if end_date <= now:
            raise ValidationFailed("The end date must be in the future.")
        start, end = now, end_date
    async with Users._meta.db.transaction():
        updated = (
            await Users.update(
                {
                    Users.subscription_plan: info.plan.value,
                    Users.subscription_status: SubscriptionStatus.active.value,
                    Users.subscription_start_date: start,
                    Users.subscription_end_date: end,
                }
            )
            .where(Users.id == user_id)
            .returning(Users.id)
        )
        if not updated:
            raise NotFound("No such user.")
        if grant and info.monthly_credits:
            await ledger.apply(user_id, info.monthly_credits, LedgerReason.plan_grant, note=info.plan.value)
    if grant and info.monthly_credits:
        from app.billing.charges import announce_grant

        await announce_grant(user_id, info.monthly_credits, f"Your {info.plan.value.capitalize()} plan's credits.")
    return await Users.objects().where(Users.id == user_id).first()
