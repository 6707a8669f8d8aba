"""Product-style sample photos drawn with Pillow, for the seed's trial images and showcase videos."""

from __future__ import annotations

import io
from math import cos, radians, sin

from PIL import Image, ImageDraw, ImageFilter


def _backdrop(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    w, h = size
    column = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / max(1, h - 1)
        column.putpixel((0, y), tuple(int(top[i] * (1 - t) + bottom[i] * t) for i in range(3)))
    return column.resize(size)


def _shadow(img: Image.Image, box: tuple[int, int, int, int]) -> None:
    layer = Image.new("L", img.size, 0)
    ImageDraw.Draw(layer).ellipse(box, fill=90)
    layer = layer.filter(ImageFilter.GaussianBlur(18))
    img.paste((0, 0, 0), (0, 0), layer)


def bottle(size=(1280, 720), colour=(32, 120, 98), backdrop=((248, 236, 222), (214, 190, 168))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, base = w // 2, int(h * 0.86)
    _shadow(img, (cx - w // 9, base - 20, cx + w // 9, base + 22))
    d = ImageDraw.Draw(img)
    bw, bh = w // 9, int(h * 0.52)
    d.rounded_rectangle((cx - bw, base - bh, cx + bw, base), radius=bw // 2, fill=colour)
    d.rectangle((cx - bw // 3, base - bh - h // 9, cx + bw // 3, base - bh + 6), fill=colour)
    d.rectangle((cx - bw // 3 - 4, base - bh - h // 9 - 24, cx + bw // 3 + 4, base - bh - h // 9), fill=(40, 40, 40))
    d.rounded_rectangle(
        (cx - bw + 14, base - bh * 0.62, cx + bw - 14, base - bh * 0.28), radius=8, fill=(250, 247, 240)
    )
    d.rectangle((cx - bw + 24, base - bh + 20, cx - bw + 38, base - 30), fill=tuple(min(255, c + 60) for c in colour))
    return img


def sneaker(size=(1280, 720), colour=(238, 96, 42), backdrop=((226, 236, 250), (176, 196, 226))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, base = w // 2, int(h * 0.78)
    _shadow(img, (cx - w // 4, base - 10, cx + w // 4, base + 34))
    d = ImageDraw.Draw(img)
    sole = (cx - w // 4, base - h // 16, cx + w // 4, base)
    d.rounded_rectangle(sole, radius=h // 32, fill=(250, 250, 250))
    d.polygon(
        [
            (cx - w // 4, base - h // 16),
            (cx - w // 5, base - h // 3),
            (cx, base - h // 3),
            (cx + w // 4, base - h // 8),
            (cx + w // 4, base - h // 16),
        ],
        fill=colour,
    )
    for i in range(4):
        x = cx - w // 10 + i * w // 28
        d.line((x, base - h // 3.4, x + w // 30, base - h // 4.2), fill=(255, 255, 255), width=6)
    return img


def mug(size=(1280, 720), colour=(70, 62, 160), backdrop=((244, 242, 236), (200, 196, 186))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, base = w // 2, int(h * 0.82)
    _shadow(img, (cx - w // 7, base - 16, cx + w // 7, base + 24))
    d = ImageDraw.Draw(img)
    mw, mh = w // 8, int(h * 0.42)
    d.ellipse(
        (cx + mw - 40, base - mh * 0.8, cx + mw + mw // 1.4, base - mh * 0.25), outline=colour, width=max(10, w // 80)
    )
    d.rounded_rectangle((cx - mw, base - mh, cx + mw, base), radius=18, fill=colour)
    d.ellipse((cx - mw, base - mh - 18, cx + mw, base - mh + 18), fill=tuple(max(0, c - 40) for c in colour))
    return img


def lipstick(size=(1280, 720), colour=(196, 30, 72), backdrop=((252, 228, 236), (236, 188, 206))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, base = w // 2, int(h * 0.85)
    _shadow(img, (cx - w // 14, base - 12, cx + w // 14, base + 18))
    d = ImageDraw.Draw(img)
    lw = w // 22
    d.rectangle((cx - lw, base - h // 3, cx + lw, base), fill=(212, 175, 55))
    d.rectangle((cx - lw + 6, base - h // 3 - h // 7, cx + lw - 6, base - h // 3), fill=(230, 200, 90))
    d.polygon(
        [
            (cx - lw + 10, base - h // 3 - h // 7),
            (cx + lw - 10, base - h // 3 - h // 7 - h // 10),
            (cx + lw - 10, base - h // 3 - h // 7),
        ],
        fill=colour,
    )
    d.rectangle((cx - lw + 10, base - h // 3 - h // 7 - 2, cx + lw - 10, base - h // 3 - h // 7 + h // 40), fill=colour)
    return img


def headphones(size=(1280, 720), colour=(30, 30, 36), backdrop=((220, 232, 236), (150, 176, 188))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, cy = w // 2, int(h * 0.55)
    _shadow(img, (cx - w // 6, int(h * 0.83), cx + w // 6, int(h * 0.9)))
    d = ImageDraw.Draw(img)
    r = h // 4
    d.arc((cx - r, cy - r, cx + r, cy + r), 180, 360, fill=colour, width=max(12, h // 40))
    for sx in (-1, 1):
        x = cx + sx * r
        d.rounded_rectangle((x - h // 14, cy - h // 30, x + h // 14, cy + h // 5), radius=h // 20, fill=colour)
        d.rounded_rectangle((x - h // 24, cy, x + h // 24, cy + h // 6), radius=h // 30, fill=(90, 200, 210))
    return img


def handbag(size=(1280, 720), colour=(150, 92, 52), backdrop=((246, 240, 230), (210, 196, 176))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, base = w // 2, int(h * 0.84)
    _shadow(img, (cx - w // 6, base - 14, cx + w // 6, base + 22))
    d = ImageDraw.Draw(img)
    bw, bh = w // 6, int(h * 0.36)
    d.arc((cx - bw // 2, base - bh - h // 5, cx + bw // 2, base - bh + h // 10), 180, 360, fill=(90, 56, 30), width=14)
    d.rounded_rectangle((cx - bw, base - bh, cx + bw, base), radius=24, fill=colour)
    d.rectangle((cx - 22, base - bh + 30, cx + 22, base - bh + 62), fill=(212, 175, 55))
    return img


def perfume(size=(1280, 720), colour=(126, 58, 176), backdrop=((240, 232, 250), (196, 176, 226))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, base = w // 2, int(h * 0.84)
    _shadow(img, (cx - w // 8, base - 14, cx + w // 8, base + 20))
    d = ImageDraw.Draw(img)
    pw, ph = w // 9, int(h * 0.4)
    glass = tuple(min(255, c + 70) for c in colour)
    d.rounded_rectangle((cx - pw, base - ph, cx + pw, base), radius=pw // 3, fill=glass, outline=colour, width=6)
    d.rounded_rectangle((cx - pw + 16, base - ph * 0.7, cx + pw - 16, base - 14), radius=pw // 4, fill=colour)
    d.rectangle((cx - pw // 5, base - ph - h // 14, cx + pw // 5, base - ph), fill=(212, 175, 55))
    d.rounded_rectangle(
        (cx - pw // 2, base - ph - h // 14 - h // 10, cx + pw // 2, base - ph - h // 14), radius=10, fill=(40, 30, 50)
    )
    return img


def phone(size=(1280, 720), colour=(24, 24, 32), backdrop=((226, 244, 240), (150, 206, 196))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, base = w // 2, int(h * 0.88)
    _shadow(img, (cx - w // 9, base - 12, cx + w // 9, base + 18))
    d = ImageDraw.Draw(img)
    pw, ph = int(h * 0.2), int(h * 0.74)
    d.rounded_rectangle((cx - pw, base - ph, cx + pw, base), radius=pw // 4, fill=colour)
    screen = (cx - pw + 10, base - ph + 14, cx + pw - 10, base - 14)
    d.rounded_rectangle(screen, radius=pw // 5, fill=(88, 70, 240))
    d.ellipse((cx - pw // 2, base - ph * 0.7, cx + pw // 2, base - ph * 0.7 + pw), fill=(255, 196, 90))
    for i in range(3):
        y = base - ph * 0.38 + i * ph * 0.09
        d.rounded_rectangle(
            (cx - pw * 0.7, y, cx + pw * (0.7 - 0.2 * i), y + ph * 0.04), radius=3, fill=(236, 232, 255)
        )
    return img


def watch(size=(1280, 720), colour=(58, 72, 92), backdrop=((244, 238, 228), (202, 188, 164))) -> Image.Image:
    img = _backdrop(size, *backdrop)
    w, h = size
    cx, cy = w // 2, int(h * 0.5)
    d = ImageDraw.Draw(img)
    r = int(h * 0.2)
    d.rounded_rectangle((cx - r // 2, cy - int(h * 0.45), cx + r // 2, cy + int(h * 0.45)), radius=r // 4, fill=colour)
    _shadow(img, (cx - r, cy + r - 10, cx + r, cy + r + 30))
    d = ImageDraw.Draw(img)
    d.ellipse((cx - r - 12, cy - r - 12, cx + r + 12, cy + r + 12), fill=(212, 175, 55))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 248, 242))
    for i in range(12):
        angle = i * 30
        x, y = cx + sin(radians(angle)) * r * 0.82, cy - cos(radians(angle)) * r * 0.82
        d.ellipse((x - 4, y - 4, x + 4, y + 4), fill=(40, 40, 40))
    d.line((cx, cy, cx + r * 0.45, cy - r * 0.3), fill=(30, 30, 30), width=7)
    d.line((cx, cy, cx - r * 0.1, cy - r * 0.7), fill=(30, 30, 30), width=5)
    return img


PRODUCTS = {
    "bottle": bottle,
    "sneaker": sneaker,
    "mug": mug,
    "lipstick": lipstick,
    "headphones": headphones,
    "handbag": handbag,
    "perfume": perfume,
    "phone": phone,
    "watch": watch,
}


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 86) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, quality=quality)
    return buffer.getvalue()
