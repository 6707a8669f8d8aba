"""Finishing speed: a 4 s 720p clip with hook, captions, a 2 s end card and music into the four
placements, on one core, against the clip's own length. CPU seconds are printed beside wall-clock
seconds: on a busy machine the wall clock includes waiting for the core.

    python -m benchmarks.finishing            # pinned to one core where the OS allows it
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Timer:
    def __enter__(self) -> Self:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from app.finishing import engine
    from app.finishing.audio import soundtrack
    from app.finishing.options import Brand, Caption, EndCard, FinishOptions
    from tests.finishing_media import logo, make_clip, tone

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    clip_seconds = 4.0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = make_clip(root / "clip.mp4", seconds=int(clip_seconds), width=1280, height=720)
        music = tone(root / "music.mp3", seconds=30)
        brand = Brand(
            name="Bench",
            primary=(20, 60, 160),
            accent=(250, 200, 30),
            logo=logo(),
            cta_text="Shop now",
            cta_url="example.com/shop",
        )
        options = FinishOptions(
            placements=("9:16", "1:1", "4:5", "16:9"),
            hook_text="The bottle that keeps up",
            captions=(Caption("Cold for 24 hours"), Caption("Fits every bag")),
            end_card=EndCard(seconds=2),
        )
        print(
            f"finishing on {cores} core(s), x264 preset {engine.X264_PRESET}: a {clip_seconds:g} s 1280x720 clip, "
            f"hook, 2 captions, 2 s end card, music"
        )
        with Timer() as whole:
            with Timer() as prep:
                plan = engine.plan(options, brand, engine.probe_clip(clip))
                sound = engine.write_soundtrack(
                    soundtrack(
                        clip=clip, music=music, trim_start=0, trim_end=plan.clip_seconds, total_seconds=plan.seconds
                    ),
                    root / "sound.m4a",
                )
            print(f"  plan + soundtrack (decode, loudnorm, fade, AAC)  wall {prep.wall:6.2f} s   cpu {prep.cpu:6.2f} s")
            for rendition in plan.renditions:
                stem = rendition.placement.replace(":", "x")
                with Timer() as one:
                    engine.render_rendition(plan, rendition, clip, sound, root / f"{stem}.mp4", root / f"{stem}.jpg")
                print(
                    f"  {rendition.placement:<5} {rendition.width}x{rendition.height:<5} {rendition.fit:<5}"
                    f"  wall {one.wall:6.2f} s   cpu {one.cpu:6.2f} s   "
                    f"{clip_seconds / one.cpu:5.2f}x real time (clip {clip_seconds:g} s; ad {plan.seconds:g} s)"
                )
        print(
            f"  all four                                         wall {whole.wall:6.2f} s   cpu {whole.cpu:6.2f} s   "
            f"{4 * clip_seconds / whole.cpu:5.2f}x real time per rendition"
        )


if __name__ == "__main__":
    main()
