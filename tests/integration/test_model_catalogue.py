"""The model catalogue is the one table: the API's model list, the pricing page, the plan checks and the
providers all say what it says; Sora pointed at OpenAI itself is listed unavailable with the reason."""

from __future__ import annotations

import re

import pytest

from app.billing import model_catalogue, plans
from app.billing.pricing import price_for
from app.providers import registry
from app.providers.openai_videos import RETIRED_REASON


async def test_the_api_model_list_is_the_catalogue(client) -> None:
    response = await client.get("/api/v1/videos/models/list")
    assert response.status_code == 200
    listed = response.json()
    assert [m["id"] for m in listed] == [m.id for m in model_catalogue.MODELS]
    for entry, out in zip(model_catalogue.MODELS, listed, strict=True):
        assert (out["provider"], out["name"], out["audio"]) == (entry.provider, entry.name, entry.audio)
        assert (out["text_input"], out["image_input"]) == (entry.text_input, entry.image_input)
        assert out["needs_reference_image"] == (not entry.text_input)
        assert out["durations"] == list(entry.durations) and out["sizes"] == entry.all_sizes
        assert out["prices"] == [{"duration": d, "credits": c} for d, c in sorted(entry.prices.items())]
        assert {p["ratio"]: p["sizes"] for p in out["placements"]} == {r: list(s) for r, s in entry.sizes.items()}
        assert out["plans"] == list(entry.plans) and out["available"] is True


async def test_the_pricing_page_shows_every_catalogue_price(client) -> None:
    page = (await client.get("/pricing")).text
    for entry in model_catalogue.MODELS:
        row = re.search(rf'<tr id="price-{re.escape(entry.id)}">(.*?)</tr>', page, re.S)
        assert row is not None and entry.name in row.group(1), entry.id
        for seconds, credits in entry.prices.items():
            assert re.search(rf"<td>{seconds} s</td>\s*<td class=\"num\">{credits:,}</td>", page), (entry.id, seconds)


def test_plans_prices_and_providers_read_the_catalogue(settings) -> None:
    infos = {m.id: m for m in registry.all_models(settings)}
    for entry in model_catalogue.MODELS:
        assert infos[entry.id].provider == entry.provider and infos[entry.id].sizes == entry.all_sizes
        for seconds, credits in entry.prices.items():
            assert price_for(entry.id, seconds) == credits
        for plan in ("basic", "pro"):
            ok, reason = plans.allowed(plan, entry.id, entry.all_sizes[0])
            assert ok == (plan in entry.plans), (entry.id, plan, reason)
    ok, reason = plans.allowed("basic", "veo-3.1", "1280x720")
    assert not ok and reason == "Google Veo 3.1 needs the Pro plan."


@pytest.fixture
def pointed_at_openai(monkeypatch, request):
    """The app with OPENAI_BASE_URL at OpenAI's own API (and a real-looking key)."""
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-test")
    monkeypatch.setenv("USE_MOCK_SORA", "false")
    return request.getfixturevalue("client")


async def test_sora_against_openai_itself_is_listed_unavailable(pointed_at_openai) -> None:
    client = pointed_at_openai
    listed = {m["id"]: m for m in (await client.get("/api/v1/videos/models/list")).json()}
    for model in ("sora-2", "sora-2-pro"):
        assert listed[model]["available"] is False and listed[model]["reason"] == RETIRED_REASON
    assert listed["veo-3.1-fast"]["available"] is True
