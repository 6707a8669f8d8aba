"""The studio form: which models, durations and sizes a user can pick (and why not the rest), the live
quote (price, balance after, what blocks generating and how to fix it), and prefills from links."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.billing import charges, model_catalogue, plans
from app.billing.ledger import InsufficientCreditsException
from app.billing.pricing import PRICES, price_for
from app.errors import AppError
from app.media.storage import media_url
from app.providers.registry import all_models
from app.tables import TrialImages, Uploads, Users
from app.videos import library
from app.web.input_guard import MAX_INT

PROMPT_MAX = 2000
DEFAULT_PLACEMENT = "16:9"
MAX_VARIATIONS = 4


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    allowed: bool = True
    reason: str = ""


@dataclass
class Selection:
    """What the form currently says (from a query, a submitted form, or a video to copy)."""

    model: str = ""
    duration: int | None = None
    size: str = ""
    prompt: str = ""
    upload_id: int | None = None
    trial_image_id: int | None = None
    placement: str = ""
    variations: int = 1
    audio: bool = False


@dataclass(frozen=True)
class Quote:
    price: int | None  # of all the videos asked for
    balance: int
    each: int | None = None  # of one video
    count: int = 1
    blocked: str | None = None  # why the button is disabled, for people
    fix_route: str | None = None  # the name of the page that fixes it
    fix_label: str | None = None

    @property
    def balance_after(self) -> int | None:
        return None if self.price is None else self.balance - self.price

    @property
    def ok(self) -> bool:
        return self.blocked is None


@dataclass
class Settings:
    """The pickers (placement first: it narrows the models and sizes), with the current selection made
    valid, and the quote for it."""

    models: list[Choice]
    durations: list[Choice]
    sizes: list[Choice]
    selection: Selection
    quote: Quote
    notes: list[str] = field(default_factory=list)
    placements: list[Choice] = field(default_factory=list)
    variations: list[Choice] = field(default_factory=list)
    audio_available: bool = False


def _int(value: object) -> int | None:
    """A whole number that fits a database integer, or None (absent, malformed or out of range)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= MAX_INT else None


def selection_from(values: dict[str, str]) -> Selection:
    """A Selection from form or query fields (unknown or malformed values become empty)."""
    return Selection(
        model=(values.get("model") or "").strip(),
        duration=_int(values.get("duration")),
        size=(values.get("size") or values.get("resolution") or "").strip(),
        prompt=(values.get("prompt") or "")[: PROMPT_MAX + 1],
        upload_id=_int(values.get("reference_upload_id")),
        trial_image_id=_int(values.get("trial_image_id") or values.get("trial_image")),
        placement=(values.get("placement") or "").strip(),
        variations=min(MAX_VARIATIONS, max(1, _int(values.get("variations")) or 1)),
        audio=(values.get("audio") or "").strip().lower() in ("on", "true", "1", "yes"),
    )


def _sellable_models():
    return [m for m in all_models() if m.id in PRICES]


def _fix_for(exc: AppError) -> tuple[str, str]:
    if isinstance(exc, charges.SubscriptionRequiredException):
        return "billing:pricing", "Choose a plan"
    if isinstance(exc, charges.SubscriptionExpiredException):
        return "account:index", "Renew your plan"
    if isinstance(exc, InsufficientCreditsException):
        return "billing:pricing", "Get more credits"
    return "billing:pricing", "See plans"


def _placements() -> list[Choice]:
    choices = []
    for ratio, label in model_catalogue.PLACEMENTS:
        makers = model_catalogue.for_placement(ratio)
        choices.append(
            Choice(
                ratio,
                label,
                bool(makers),
                "" if makers else f"No model makes {ratio} videos yet: make 1:1 or 9:16 and reframe it.",
            )
        )
    return choices


def _placement_for(wanted: Selection, placements: list[Choice]) -> str:
    usable = {c.value for c in placements if c.allowed}
    if wanted.placement in usable:
        return wanted.placement
    from_size = model_catalogue.ratio_of_size(wanted.size) if wanted.size else None
    return from_size if from_size in usable else DEFAULT_PLACEMENT


async def settings_for(user: Users, wanted: Selection) -> Settings:
    """The pickers for `user`'s plan and the quote for `wanted` (moved to the nearest allowed choice).
    The placement comes first: only the models (and their sizes) that make its aspect ratio are offered."""
    info = plans.plan_info(user.subscription_plan)
    placements = _placements()
    placement = _placement_for(wanted, placements)
    models = [m for m in _sellable_models() if (entry := model_catalogue.get(m.id)) and placement in entry.sizes]
    model_choices = []
    for m in models:
        ok, reason = (True, "")
        if not m.available:
            ok, reason = False, m.reason or "This model is not available right now."
        elif info.can_generate and m.id not in info.models:
            ok, reason = plans.allowed(user.subscription_plan, m.id, info.sizes[0])
        model_choices.append(Choice(m.id, m.name, ok, reason))
    by_id = {m.id: m for m in models}
    usable = [c.value for c in model_choices if c.allowed]
    model_id = wanted.model if wanted.model in by_id and (wanted.model in usable or not usable) else ""
    model_id = model_id or (usable[0] if usable else (models[0].id if models else ""))
    model = by_id.get(model_id)

    durations: list[Choice] = []
    sizes: list[Choice] = []
    if model is not None:
        for seconds in model.durations:
            if seconds in PRICES[model.id]:
                durations.append(Choice(str(seconds), f"{seconds} seconds"))
        for size in model_catalogue.get(model.id).sizes[placement]:
            ok, reason = plans.allowed(user.subscription_plan, model.id, size) if info.can_generate else (True, "")
            label = plans.SIZE_NAMES.get(size, size)
            sizes.append(Choice(size, label, ok, reason))
    duration = wanted.duration if any(c.value == str(wanted.duration) for c in durations) else None
    duration = duration or (int(durations[0].value) if durations else None)
    usable_sizes = [c.value for c in sizes if c.allowed]
    size = (
        wanted.size
        if wanted.size in usable_sizes
        else (usable_sizes[0] if usable_sizes else (sizes[0].value if sizes else ""))
    )

    audio_available = bool(model is not None and model.audio)
    variations = max(1, min(MAX_VARIATIONS, wanted.variations or 1))
    selection = Selection(
        model_id,
        duration,
        size,
        wanted.prompt,
        wanted.upload_id,
        wanted.trial_image_id,
        placement,
        variations,
        wanted.audio and audio_available,
    )
    quote = await quote_for(user, selection)
    notes = [f"{c.label}: {c.reason}" for c in model_choices + sizes if not c.allowed and c.reason]
    variation_choices = [
        Choice(str(n), "1 video" if n == 1 else f"{n} variations") for n in range(1, MAX_VARIATIONS + 1)
    ]
    return Settings(
        model_choices,
        durations,
        sizes,
        selection,
        quote,
        list(dict.fromkeys(notes)),
        placements,
        variation_choices,
        audio_available,
    )


async def quote_for(user: Users, selection: Selection) -> Quote:
    """The price of `selection` and whether this user can generate it now (the seed's checks, then the plan's)."""
    each = None
    count = max(1, selection.variations or 1)
    if selection.model and selection.duration:
        try:
            each = price_for(selection.model, selection.duration)
        except AppError as exc:
            return Quote(
                None, user.credits, blocked=exc.detail, fix_route="studio:create", fix_label="Pick another option"
            )
    price = None if each is None else each * count
    common = {"each": each, "count": count}
    try:
        await charges.check_can_generate(user, price or 0)
    except AppError as exc:
        route, label = _fix_for(exc)
        detail = exc.detail
        if isinstance(exc, InsufficientCreditsException) and count > 1:
            detail = f"These {count} videos cost {price:,} credits and you have {user.credits:,}."
        return Quote(price, user.credits, blocked=detail, fix_route=route, fix_label=label, **common)
    if price is None:
        return Quote(None, user.credits, blocked="Pick a model and a duration.", **common)
    ok, reason = plans.allowed(user.subscription_plan, selection.model, selection.size)
    if not ok:
        return Quote(
            price, user.credits, blocked=reason, fix_route="billing:pricing", fix_label="Compare plans", **common
        )
    model = next((m for m in _sellable_models() if m.id == selection.model), None)
    if model is not None and not model.available:
        return Quote(price, user.credits, blocked=model.reason or "This model is not available right now.", **common)
    return Quote(price, user.credits, **common)


async def prefill(user: Users, from_video: int | None, trial_image: int | None) -> Selection:
    """The starting selection: a copy of one of the user's videos ("make another like this"), or a trial image."""
    if from_video:
        video = await library.find_video(user.id, from_video)
        if video is not None:
            return Selection(
                model=video.model,
                duration=video.duration,
                size=video.resolution,
                prompt=video.prompt,
                upload_id=video.reference_upload,
                trial_image_id=video.reference_trial_image,
                audio=bool(video.audio),
            )
    return Selection(trial_image_id=trial_image)


async def trial_images() -> list[dict[str, Any]]:
    """The active trial images (`id`, `title`, `image_url`), in the admin's order."""
    return await TrialImages.raw(
        'SELECT id, title, image_url FROM trial_images WHERE is_active = {} ORDER BY "order", id', True
    )


@dataclass(frozen=True)
class Photo:
    """A picture the studio can also make the same ad from: `upload:ID` or `trial:ID`."""

    value: str
    label: str
    src: str


async def more_photos(user_id: int, trials: list[dict[str, Any]] | None = None, limit: int = 8) -> list[Photo]:
    """The user's recent uploads, then the trial images (`trials` when the caller already has them): the
    choices for "several photos, one prompt"."""
    recent = await Uploads.raw(
        "SELECT id, width, height, storage_key FROM uploads WHERE user_id = {} ORDER BY id DESC LIMIT {}",
        user_id,
        limit,
    )
    photos = [
        Photo(f"upload:{u['id']}", f"Your photo {u['width']}×{u['height']}", media_url(u["storage_key"]) or "")
        for u in recent
    ]
    trials = await trial_images() if trials is None else trials
    photos += [Photo(f"trial:{t['id']}", t["title"], t["image_url"]) for t in trials]
    return photos


def photo_reference(value: str) -> tuple[int | None, int | None] | None:
    """(upload id, trial image id) of a `upload:ID` / `trial:ID` choice; None for anything else."""
    kind, _, ident = (value or "").partition(":")
    if not ident.isdigit() or kind not in ("upload", "trial"):
        return None
    return (int(ident), None) if kind == "upload" else (None, int(ident))
