"""The still pictures laid over a clip, each drawn once per rendition size: the hook panel, one band per
caption, and the call-to-action end card. Hook and captions are RGBA with their position in the frame."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from app.finishing.options import RGB, Brand, EndCard
from app.finishing.text import FittedText, fit

HOOK_SCALE = {"small": 0.062, "medium": 0.078, "large": 0.098}
WHITE, INK = (255, 255, 255), (17, 17, 17)


@dataclass(frozen=True)
class Overlay:
    image: Image.Image  # RGBA
    x: int
    y: int

    def paint(self, frame: Image.Image) -> None:
        frame.paste(self.image, (self.x, self.y), self.image)


def _luminance(rgb: RGB) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: RGB) -> RGB:
    """White or ink, whichever reads better on the background."""
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


def _draw_lines(
    draw: ImageDraw.ImageDraw, fitted: FittedText, centre_x: float, top: float, fill, stroke: int = 0, stroke_fill=None
) -> None:
    y = top
    for line in fitted.lines:
        width = fitted.font.getlength(line)
        draw.text(
            (centre_x - width / 2, y), line, font=fitted.font, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill
        )
        y += fitted.line_height


def _frame_name(width: int, height: int) -> str:
    return f"{width}×{height}"


def hook(
    text: str,
    brand: Brand,
    width: int,
    height: int,
    *,
    position: str = "top",
    size: str = "medium",
    frame: str | None = None,
) -> Overlay:
    """The hook: bold text in the brand font on a panel of the brand's primary colour, an accent rule below."""
    short = min(width, height)
    pad = int(short * 0.035)
    fitted = fit(
        text,
        brand.font,
        max_width=width * 0.84 - 2 * pad,
        max_lines=3,
        size=int(short * HOOK_SCALE[size]),
        min_size=int(short * 0.04),
        what="hook text",
        frame=frame or _frame_name(width, height),
    )
    panel_w = fitted.width() + 2 * pad
    rule = max(4, short // 120)
    panel_h = fitted.height + 2 * pad + rule
    image = Image.new("RGBA", (panel_w, panel_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, panel_w - 1, panel_h - 1), radius=pad, fill=(*brand.primary, 235))
    draw.rectangle((pad, panel_h - pad // 2 - rule, panel_w - pad, panel_h - pad // 2), fill=(*brand.accent, 255))
    _draw_lines(draw, fitted, panel_w / 2, pad - fitted.font.size * 0.05, (*text_colour_on(brand.primary), 255))
    x = (width - panel_w) // 2
    y = {"top": int(height * 0.08), "middle": (height - panel_h) // 2, "bottom": height - panel_h - int(height * 0.2)}[
        position
    ]
    return Overlay(image, x, y)


def caption(text: str, brand: Brand, width: int, height: int, frame: str | None = None) -> Overlay:
    """A caption line: white text with a dark outline on a translucent band, near the bottom."""
    short = min(width, height)
    pad = int(short * 0.022)
    fitted = fit(
        text,
        brand.font,
        max_width=width * 0.88 - 2 * pad,
        max_lines=2,
        size=int(short * 0.052),
        min_size=int(short * 0.036),
        what="caption",
        frame=frame or _frame_name(width, height),
    )
    band_w = fitted.width() + 2 * pad
    band_h = fitted.height + 2 * pad
    image = Image.new("RGBA", (band_w, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, band_w - 1, band_h - 1), radius=pad, fill=(0, 0, 0, 150))
    _draw_lines(
        draw,
        fitted,
        band_w / 2,
        pad - fitted.font.size * 0.05,
        (255, 255, 255, 255),
        stroke=max(1, fitted.font.size // 14),
        stroke_fill=(0, 0, 0, 255),
    )
    return Overlay(image, (width - band_w) // 2, height - band_h - int(height * 0.07))


def end_card(brand: Brand, card: EndCard, width: int, height: int, frame: str | None = None) -> Image.Image:
    """The closing card: brand colour, the logo (or the brand's name), the CTA on an accent button, the URL."""
    frame = frame or _frame_name(width, height)
    short = min(width, height)
    image = Image.new("RGB", (width, height), brand.primary)
    draw = ImageDraw.Draw(image)
    ink = text_colour_on(brand.primary)
    blocks: list[tuple[str, object, int]] = []  # (kind, payload, height)
    gap = int(short * 0.05)
    if brand.logo is not None:
        logo = brand.logo.copy()
        logo.thumbnail((int(width * 0.5), int(height * 0.26)), Image.LANCZOS)
        blocks.append(("logo", logo, logo.height))
    elif brand.name:
        name = fit(
            brand.name,
            brand.font,
            max_width=width * 0.84,
            max_lines=2,
            size=int(short * 0.1),
            min_size=int(short * 0.045),
            what="brand name",
            frame=frame,
        )
        blocks.append(("name", name, name.height))
    cta_text = card.text or brand.cta_text
    button_pad = int(short * 0.035)
    if cta_text:
        cta = fit(
            cta_text,
            brand.font,
            max_width=width * 0.78 - 2 * button_pad,
            max_lines=2,
            size=int(short * 0.085),
            min_size=int(short * 0.042),
            what="call to action",
            frame=frame,
        )
        blocks.append(("cta", cta, cta.height + 2 * button_pad))
    url_text = card.url or brand.cta_url
    if url_text:
        url = fit(
            url_text,
            brand.font,
            max_width=width * 0.88,
            max_lines=1,
            size=int(short * 0.052),
            min_size=int(short * 0.03),
            what="URL",
            frame=frame,
            bold=False,
        )
        blocks.append(("url", url, url.height))
    total = sum(h for _, _, h in blocks) + gap * max(0, len(blocks) - 1)
    y = (height - total) / 2
    for kind, payload, block_h in blocks:
        if kind == "logo":
            image.paste(payload, ((width - payload.width) // 2, int(y)), payload)
        elif kind == "cta":
            button_w = payload.width() + 2 * button_pad * 1.6
            left = (width - button_w) / 2
            draw.rounded_rectangle((left, y, left + button_w, y + block_h), radius=block_h // 2, fill=brand.accent)
            _draw_lines(
                draw, payload, width / 2, y + button_pad - payload.font.size * 0.05, text_colour_on(brand.accent)
            )
        else:
            _draw_lines(draw, payload, width / 2, y, ink)
        y += block_h + gap
    return image
