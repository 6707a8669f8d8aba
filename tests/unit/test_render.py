"""The renderer writes real H.264 MP4s of exactly the size and length asked, from a picture or a scene."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.media.render import cover, probe, render_clip, render_clip_bytes


def two_tone(width: int, height: int) -> Image.Image:
    """Red on top, blue below: easy to recognise in a frame."""
    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 40, 220), (0, height // 2, width, height))
    return image


@pytest.mark.parametrize(
    ("seconds", "size", "with_reference"),
    [
        (4, "1280x720", False),
        (4, "1280x720", True),
        (4, "720x1280", False),
        (4, "720x1280", True),
        (8, "720x1280", True),
        (12, "1280x720", False),
    ],
)
def test_clip_has_the_requested_codec_size_and_length(seconds: int, size: str, with_reference: bool) -> None:
    width, height = map(int, size.split("x"))
    reference = two_tone(width, height) if with_reference else None
    data, clip = render_clip_bytes(
        width=width, height=height, seconds=seconds, caption="Fresh lemonade on a summer porch", image=reference
    )

    info = probe(data)
    assert info["codec"] == "h264"
    assert (info["width"], info["height"]) == (width, height)
    assert info["seconds"] == pytest.approx(seconds, abs=0.05)
    assert info["frames"] == seconds * 24
    assert clip.keyframes and all(frame.size == (width, height) for frame in clip.keyframes)

    poster = clip.poster
    upper, lower = poster.getpixel((width // 2, height // 4)), poster.getpixel((width // 2, int(height * 0.6)))
    if with_reference:
        assert upper[0] > 150 and upper[2] < 100, "the top of the picture (red) shows in the frame"
        assert lower[2] > 150 and lower[0] < 100, "the bottom of the picture (blue) shows in the frame"
    else:
        first, last = clip.keyframes[0], clip.keyframes[-1]
        assert first.tobytes() != last.tobytes(), "a generated scene moves"
        assert len(first.resize((32, 18)).getcolors(32 * 18)) > 10, "a generated scene is not a flat colour"


def test_reference_picture_pans_and_zooms() -> None:
    picture = Image.new("RGB", (1280, 720), (200, 200, 200))
    for x in range(0, 1280, 80):
        picture.paste((20, 20, 20), (x, 0, x + 40, 720))
    _, clip = render_clip_bytes(width=1280, height=720, seconds=4, image=picture)
    assert clip.keyframes[0].tobytes() != clip.keyframes[-1].tobytes()


def test_clip_written_to_a_path_is_readable(tmp_path) -> None:
    out = tmp_path / "clip.mp4"
    render_clip(out, width=720, height=1280, seconds=4, caption="")
    assert probe(out)["frames"] == 96


def test_odd_dimensions_are_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        render_clip(io.BytesIO(), width=721, height=1280, seconds=4)


def test_cover_crops_to_exactly_the_size_and_honours_exif_rotation() -> None:
    landscape = Image.new("RGB", (4000, 3000), (10, 200, 10))
    assert cover(landscape, 720, 1280).size == (720, 1280)

    # A phone photo stored sideways: 300x200 pixels with orientation 6 (rotate 90° clockwise to view).
    stored = two_tone(300, 200)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", exif=exif)
    upright = cover(Image.open(io.BytesIO(buffer.getvalue())), 200, 300)
    assert upright.size == (200, 300)
    left, right = upright.getpixel((20, 150)), upright.getpixel((180, 150))
    assert left[2] > 150 and right[0] > 150, "rotated upright: blue (was bottom) on the left, red on the right"


def test_the_same_clip_asked_twice_is_the_same_file_and_a_new_caption_is_a_new_one():
    first, clip = render_clip_bytes(width=320, height=180, seconds=1, caption="Same request")
    clip.keyframes[0].paste((255, 0, 0), (0, 0, 320, 180))  # a caller drawing on its poster changes nothing later
    again, clip_again = render_clip_bytes(width=320, height=180, seconds=1, caption="Same request")
    other, _ = render_clip_bytes(width=320, height=180, seconds=1, caption="Another request")
    assert again == first
    assert clip_again.keyframes[0].getpixel((0, 0)) != (255, 0, 0)
    assert other != first and probe(other)["width"] == 320
