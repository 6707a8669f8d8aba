"""Fitting text into a box: the largest size (from a preferred one down to a floor) at which the words wrap
into the allowed lines. Text that fits at no size is refused with a 422 naming what to shorten."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import ImageFont

from app.errors import ValidationFailed
from app.finishing import fonts


@dataclass(frozen=True)
class FittedText:
    font: ImageFont.FreeTypeFont
    lines: tuple[str, ...]
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)

    def width(self) -> int:
        return int(max(self.font.getlength(line) for line in self.lines)) if self.lines else 0


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str] | None:
    """Greedy word wrap; None when a single word is wider than the box."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            if font.getlength(word) > max_width:
                return None
            candidate = f"{line} {word}".strip()
            if font.getlength(candidate) <= max_width:
                line = candidate
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    return lines


def fit(
    text: str,
    font_id: str,
    *,
    max_width: float,
    max_lines: int,
    size: int,
    min_size: int,
    what: str,
    frame: str,
    bold: bool = True,
) -> FittedText:
    """The text at the largest size in [min_size, size] that fits `max_lines` lines of `max_width`."""
    current = size
    while True:
        font = fonts.load(font_id, current, bold)
        lines = wrap(text, font, max_width)
        if lines is not None and len(lines) <= max_lines:
            return FittedText(font=font, lines=tuple(lines), line_height=int(current * 1.18))
        if current <= min_size:
            break
        current = max(min_size, int(current * 0.9))
    raise ValidationFailed(
        f"The {what} is too long for the {frame} frame (it needs more than {max_lines} "
        f"line{'s' if max_lines > 1 else ''}); shorten it.",
        code="text_too_long",
    )
