"""What a video costs, in whole credits, per model and duration: read from the model catalogue."""

from __future__ import annotations

from app.billing import model_catalogue
from app.errors import ValidationFailed

# model -> {duration in seconds -> credits}, as the catalogue says. `sora-2` for 4 s costs 100, the seed's figure.
PRICES: dict[str, dict[int, int]] = {m.id: dict(m.prices) for m in model_catalogue.MODELS}


def price_for(model: str, duration: int) -> int:
    """The credits a `duration`-second video from `model` costs; 422 for a combination we do not sell."""
    durations = PRICES.get(model)
    if durations is None:
        known = ", ".join(PRICES)
        raise ValidationFailed(f"Unknown model “{model}”. Choose one of: {known}.")
    try:
        return durations[int(duration)]
    except (KeyError, TypeError, ValueError):
        allowed = ", ".join(f"{d} s" for d in durations)
        raise ValidationFailed(f"{model} makes videos of {allowed}; {duration} s is not available.") from None
