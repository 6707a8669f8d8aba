"""The panel's and the brand page's HTML form fields, read into the same values the API takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import ValidationFailed
from app.finishing.options import PLACEMENTS, Caption, EndCard, FinishOptions, Trim

BRAND_FIELDS = ("name", "primary_colour", "accent_colour", "font", "cta_text", "cta_url")


def _number(form: Mapping[str, Any], name: str, label: str, default: float | None = None) -> float | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed(f"The {label} must be a number of seconds.", code="invalid_number") from None


def _many(form: Any, name: str) -> list[str]:
    if hasattr(form, "getall"):
        return [str(v) for v in form.getall(name, [])]
    value = form.get(name)
    return value if isinstance(value, list) else [value] if value else []


def panel_values(form: Any) -> dict[str, Any]:
    """The panel's fields as entered (to redraw the form and build preview links)."""
    values = {
        k: str(form.get(k) or "")
        for k in (
            "hook_text",
            "hook_position",
            "hook_size",
            "captions",
            "cta_text",
            "cta_url",
            "end_seconds",
            "trim_start",
            "trim_end",
            "fit",
            "music_upload_id",
            "end_card",
        )
    }
    values["placements"] = [p for p in _many(form, "placements") if p in PLACEMENTS] or ["9:16"]
    return values


def options_from_form(form: Any) -> tuple[FinishOptions, int | None]:
    """FinishOptions from the panel (422 with the reason); captions are one per line."""
    placements = tuple(p for p in _many(form, "placements"))
    captions = tuple(Caption(line.strip()) for line in str(form.get("captions") or "").splitlines() if line.strip())
    end_card = None
    if str(form.get("end_card") or "") in ("on", "1", "true"):
        end_card = EndCard(
            text=str(form.get("cta_text") or "").strip(),
            url=str(form.get("cta_url") or "").strip(),
            seconds=_number(form, "end_seconds", "end card length", 2.0),
        )
    trim = Trim(_number(form, "trim_start", "trim start", 0.0), _number(form, "trim_end", "trim end"))
    music = str(form.get("music_upload_id") or "").strip()
    options = FinishOptions(
        placements=placements,
        hook_text=str(form.get("hook_text") or "").strip(),
        hook_position=str(form.get("hook_position") or "top"),
        hook_size=str(form.get("hook_size") or "medium"),
        captions=captions,
        end_card=end_card,
        trim=trim,
        fit=str(form.get("fit") or "auto"),
    )
    return options, int(music) if music.isdigit() else None


def brand_values(form: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(form.get(k)) for k in BRAND_FIELDS if form.get(k) is not None}
