"""Finishing a clip into ads, checked by decoding what the engine wrote with PyAV."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.finishing.captions import parse_webvtt
from app.finishing.engine import ClipInfo, PlannedRendition, finish, plan, probe_clip
from app.finishing.options import Brand, Caption, EndCard, FinishOptions, Trim
from app.finishing.preview import clip_frame, preview_card, preview_frame
from app.media.render import probe
from tests.finishing_media import (
    audio_samples,
    difference,
    frames,
    logo,
    make_clip,
    rms,
    share_near,
    strength,
    tone,
)

PRIMARY, ACCENT, LOGO = (200, 30, 60), (255, 210, 0), (0, 200, 0)
BRAND = Brand(
    name="Acme",
    primary=PRIMARY,
    accent=ACCENT,
    font="lato",
    logo=logo(LOGO),
    cta_text="Shop now",
    cta_url="acme.example/shop",
)
SIZES = {"9:16": (720, 1280), "1:1": (720, 720), "4:5": (720, 900), "16:9": (1280, 720)}
CAPTIONS = (Caption("Cold for a whole day"), Caption("Fits in every bag"))


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("finishing")
    return {"root": root, "clip": make_clip(root / "clip.mp4"), "mp3": tone(root / "music.mp3", seconds=8)}


@pytest.fixture(scope="module")
def full_set(media):
    """Four placements with hook, captions, a 2 s end card and music, trimmed to 0.5–4.0 s."""
    options = FinishOptions(
        placements=tuple(SIZES),
        hook_text="Stay cold all day",
        captions=CAPTIONS,
        end_card=EndCard(seconds=2),
        trim=Trim(0.5, 4.0),
    )
    steps: list[tuple[int, str, float]] = []
    result = finish(
        media["clip"],
        media["root"] / "full",
        options,
        BRAND,
        music=media["mp3"],
        progress=lambda i, p, f: steps.append((i, p, f)),
    )
    return result, steps


def test_every_rendition_has_its_size_and_the_trimmed_length_plus_the_end_card(full_set) -> None:
    result, _ = full_set
    assert [r.placement for r in result.renditions] == list(SIZES)
    for rendition in result.renditions:
        info = probe(rendition.video)
        assert info["codec"] == "h264"
        assert (info["width"], info["height"]) == SIZES[rendition.placement]
        assert info["seconds"] == pytest.approx(4.0 - 0.5 + 2.0, abs=1 / 24)
        assert rendition.seconds == pytest.approx(5.5, abs=1 / 24)


def test_renditions_are_faststart_mp4_with_aac_sound_and_a_poster(full_set) -> None:
    import av
    from PIL import Image

    result, _ = full_set
    for rendition in result.renditions:
        head = rendition.video.read_bytes()[:4096]
        assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096), "moov before mdat"
        with av.open(str(rendition.video)) as container:
            assert container.streams.audio[0].codec_context.name == "aac"
            seconds = float(container.streams.audio[0].duration * container.streams.audio[0].time_base)
            assert seconds == pytest.approx(5.5, abs=0.05)
        with Image.open(rendition.poster) as poster:
            assert poster.format == "JPEG" and poster.size == SIZES[rendition.placement]


def test_music_is_heard_loudness_normalised_and_fades_out(full_set) -> None:
    result, _ = full_set
    video = result.renditions[0].video
    body, tail = audio_samples(video, 1.0, 3.0), audio_samples(video, 5.3, 5.5)
    assert rms(body) > 0.05, "the music plays"
    assert strength(body, 440) > 0.05, "it is the track's 440 Hz tone"
    assert rms(tail) < rms(body) / 3, "it fades out at the end"


def test_progress_is_reported_per_rendition_up_to_done(full_set) -> None:
    _, steps = full_set
    for index, placement in enumerate(SIZES):
        mine = [fraction for i, p, fraction in steps if i == index and p == placement]
        assert mine and mine[-1] == 1.0 and mine == sorted(mine)


def test_the_end_card_carries_the_brand_colour_and_logo(full_set) -> None:
    result, _ = full_set
    for rendition in result.renditions:
        card = frames(rendition.video, [5.3])[5.3]
        assert share_near(card, PRIMARY) > 0.5, "the card is the brand's primary colour"
        assert share_near(card, LOGO) > 0.01, "the logo shows"
        assert share_near(card, ACCENT) > 0.01, "the CTA button is the accent colour"
        corner = card.getpixel((4, 4))
        assert all(abs(corner[i] - PRIMARY[i]) < 30 for i in range(3))


def test_captions_are_written_as_webvtt_matching_the_captions(full_set) -> None:
    result, _ = full_set
    text = result.captions.read_text()
    assert text.startswith("WEBVTT")
    cues = parse_webvtt(text)
    assert [c.text for c in cues] == [c.text for c in CAPTIONS]
    assert cues[0].start == 0 and cues[0].end == pytest.approx(1.75) and cues[1].end == pytest.approx(3.5)


def test_captions_are_burned_in_while_their_cue_lasts(full_set, media) -> None:
    result, _ = full_set
    sixteen_nine = next(r for r in result.renditions if r.placement == "16:9")
    shots = frames(sixteen_nine.video, [2.6, 3.2])
    original = frames(media["clip"], [3.1, 3.7])  # the same moments in the untrimmed clip
    band = (200, 560, 1080, 700)
    assert difference(shots[2.6], original[3.1], band) > 12, "the second caption is drawn over the clip"
    assert difference(shots[2.6], shots[3.2], (0, 0, 1280, 300)) < 8, "no hook any more at 2.6 s"


def test_the_hook_shows_in_the_first_second_and_is_gone_later(media, tmp_path) -> None:
    options = FinishOptions(placements=("16:9",), hook_text="Stay cold all day")
    result = finish(media["clip"], tmp_path, options, BRAND)
    finished = frames(result.renditions[0].video, [0.5, 3.5])
    original = frames(media["clip"], [0.5, 3.5])
    top = (0, 0, 1280, 260)
    assert difference(finished[0.5], original[0.5], top) > 15, "the hook is over the clip at 0.5 s"
    assert difference(finished[3.5], original[3.5], top) < 4, "and gone at 3.5 s (only encoding noise)"
    assert result.captions is None
    assert probe(result.renditions[0].video)["seconds"] == pytest.approx(4.0, abs=1 / 24)


def test_an_ogg_track_works_too(media, tmp_path) -> None:
    music = tone(tmp_path / "music.ogg", seconds=3, hz=660)
    options = FinishOptions(placements=("1:1",), end_card=EndCard(text="Get yours", seconds=1), trim=Trim(0, 2))
    result = finish(media["clip"], tmp_path / "out", options, BRAND, music=music)
    video = result.renditions[0].video
    assert probe(video)["seconds"] == pytest.approx(3.0, abs=1 / 24)
    assert strength(audio_samples(video, 0.5, 1.5), 660) > 0.05


def test_music_sits_under_the_clips_own_sound(tmp_path) -> None:
    from app.finishing.audio import soundtrack

    clip = make_clip(tmp_path / "speaking.mp4", tone_hz=1000)
    music = tone(tmp_path / "bed.wav", seconds=8, hz=440)
    frames_out = soundtrack(clip=clip, music=music, trim_start=0, trim_end=4, total_seconds=5)
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=48000)
    from array import array

    samples: list[float] = []
    for frame in frames_out:
        for mono in resampler.resample(frame):
            samples.extend(array("f", bytes(mono.planes[0]))[: mono.samples])
    assert len(samples) == pytest.approx(5 * 48000, abs=1024)
    window = samples[48000 : 3 * 48000]
    clip_level, music_level = strength(window, 1000), strength(window, 440)
    assert clip_level > 0.1, "the clip's own sound is kept"
    assert 0.005 < music_level < clip_level / 2, "the music is there, under it"


def test_crop_shows_the_middle_and_blur_keeps_the_whole_clip(media) -> None:
    crop = clip_frame(media["clip"], PlannedRendition("9:16", 720, 1280, "crop"), 0.2)
    blur = clip_frame(media["clip"], PlannedRendition("9:16", 720, 1280, "blur"), 0.2)
    middle_row = 640
    left, right = crop.getpixel((20, middle_row)), crop.getpixel((700, middle_row))
    assert left[1] > 150 and right[1] > 150, "a centred crop of red|green|blue thirds is all green"
    left, right = blur.getpixel((20, middle_row)), blur.getpixel((700, middle_row))
    assert left[0] > 150 and right[2] > 150, "the whole clip (red … blue) is fitted across the frame"
    top = blur.getpixel((360, 60))
    assert max(top) < 200, "above it, a darkened, blurred copy"


def test_auto_fit_crops_small_changes_and_blurs_big_ones() -> None:
    clip = ClipInfo(width=720, height=1280, fps=24, seconds=4, has_audio=False)
    the_plan = plan(FinishOptions(placements=("9:16", "4:5", "1:1", "16:9")), BRAND, clip)
    assert [r.fit for r in the_plan.renditions] == ["crop", "crop", "blur", "blur"]


CLIP = ClipInfo(width=1280, height=720, fps=24, seconds=4.0, has_audio=False)


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (lambda: FinishOptions(placements=("9:16",), trim=Trim(3.0, 6.0)), "invalid_trim"),
        (lambda: FinishOptions(placements=("9:16",), trim=Trim(5.0)), "invalid_trim"),
        (lambda: FinishOptions(placements=("9:16",), trim=Trim(1.0, 1.2)), "invalid_trim"),
        (
            lambda: FinishOptions(placements=("9:16",), hook_text="Supercalifragilisticexpialidocious" * 2),
            "text_too_long",
        ),
        (lambda: FinishOptions(placements=("9:16",), hook_text="word " * 30), "text_too_long"),
        (lambda: FinishOptions(placements=("9:16",), captions=(Caption("late", 4.5, 5.0),)), "invalid_captions"),
        (lambda: FinishOptions(placements=("9:16",), captions=(Caption("a", 0, 1), Caption("b"))), "invalid_captions"),
        (lambda: FinishOptions(placements=("3:2",)), "invalid_placement"),
        (lambda: FinishOptions(placements=()), "placements_missing"),
        (lambda: FinishOptions(placements=("1:1",), end_card=EndCard(seconds=5)), "invalid_end_card"),
        (lambda: FinishOptions(placements=("1:1",), end_card=EndCard(text="Buy " * 11)), "text_too_long"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(options, code) -> None:
    with pytest.raises(ValidationFailed) as refused:
        plan(options(), BRAND, CLIP)
    assert refused.value.code == code
    assert refused.value.status_code == 422 and refused.value.detail


def test_a_url_too_long_for_the_frame_is_refused() -> None:
    brand = Brand(cta_url="https://" + "x" * 70 + ".com")
    with pytest.raises(ValidationFailed, match="URL is too long"):
        plan(FinishOptions(placements=("9:16",), end_card=EndCard()), brand, CLIP)


def test_previews_use_the_same_drawing(media) -> None:
    clip = probe_clip(media["clip"])
    options = FinishOptions(placements=("9:16",), hook_text="Stay cold all day", captions=CAPTIONS)
    dressed = preview_frame(media["clip"], clip, options, BRAND)
    bare = clip_frame(media["clip"], PlannedRendition("9:16", 720, 1280, "blur"), 0.5)
    assert dressed.size == (720, 1280)
    assert difference(dressed, bare, (0, 0, 720, 400)) > 10, "the hook is drawn"
    one = preview_card(BRAND, EndCard(text="Shop now"))
    other = preview_card(BRAND, EndCard(text="Order today, free delivery"))
    assert one.size == (720, 1280) and difference(one, other) > 0.5, "the CTA text changes the card"
    assert share_near(one, PRIMARY) > 0.5
