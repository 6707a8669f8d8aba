"""Which provider serves which model: the model id picks it."""

from __future__ import annotations

from app.config import Settings, get_settings
from app.errors import ValidationFailed
from app.providers.base import ModelInfo, VideoProvider


def providers(settings: Settings | None = None) -> list[VideoProvider]:
    """Every provider, built for `settings`."""
    from app.providers.openai_videos import OpenAIVideosProvider
    from app.providers.runway import RunwayProvider
    from app.providers.veo import VeoProvider

    settings = settings or get_settings()
    return [
        OpenAIVideosProvider.from_settings(settings),
        RunwayProvider.from_settings(settings),
        VeoProvider.from_settings(settings),
    ]


def all_models(settings: Settings | None = None) -> list[ModelInfo]:
    """Every model of every provider, available or not (an unavailable one carries its reason), in the
    catalogue's order."""
    from app.billing import model_catalogue

    order = {model.id: index for index, model in enumerate(model_catalogue.MODELS)}
    models = [model for provider in providers(settings) for model in provider.models()]
    return sorted(models, key=lambda m: order.get(m.id, len(order)))


def find_model(model_id: str, settings: Settings | None = None) -> ModelInfo | None:
    return next((m for m in all_models(settings) if m.id == model_id), None)


def get_provider(model_id: str, settings: Settings | None = None) -> VideoProvider:
    """The provider of `model_id`; ValidationFailed (422) for a model nobody offers."""
    for provider in providers(settings):
        if any(m.id == model_id for m in provider.models()):
            return provider
    raise ValidationFailed(f"Unknown model '{model_id}'.", code="unknown_model")
