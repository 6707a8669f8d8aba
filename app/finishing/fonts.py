"""The small set of typefaces a brand kit can choose. They come from PyPI font packages (SIL Open Font
License, the licence ships inside each package), so nothing is fetched at run time."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from PIL import ImageFont


@dataclass(frozen=True)
class Typeface:
    id: str
    label: str
    package: str
    bold: str
    regular: str


FONTS: dict[str, Typeface] = {
    face.id: face
    for face in (
        Typeface(
            "source-sans",
            "Source Sans Pro",
            "font_source_sans_pro",
            "SourceSansPro-Bold.ttf",
            "SourceSansPro-Regular.ttf",
        ),
        Typeface(
            "source-serif",
            "Source Serif Pro",
            "font_source_serif_pro",
            "SourceSerifPro-Bold.ttf",
            "SourceSerifPro-Regular.ttf",
        ),
        Typeface("lato", "Lato", "font_lato", "Lato-Black.ttf", "Lato-Regular.ttf"),
        Typeface("manrope", "Manrope", "font_manrope", "Manrope-ExtraBold.ttf", "Manrope-Medium.ttf"),
    )
}
DEFAULT_FONT = "source-sans"


def font_path(font_id: str, bold: bool = True) -> str:
    face = FONTS.get(font_id) or FONTS[DEFAULT_FONT]
    return str(resources.files(face.package) / "files" / (face.bold if bold else face.regular))


@lru_cache(maxsize=256)
def load(font_id: str, size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(font_id, bold), size=max(6, int(size)))
