"""/healthz latency while large images are validated: the event loop stays free because image work runs on
the bounded CPU pool. Prints numbers (they depend on the machine); asserts nothing.

    python -m benchmarks.event_loop [--images 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _large_png(width: int = 6000, height: int = 6600) -> bytes:
    """A 40-megapixel PNG of smooth gradients: a few MB to send, seconds to decode and re-encode."""
    horizontal = Image.linear_gradient("L").resize((width, height))
    vertical = Image.linear_gradient("L").rotate(90).resize((width, height))
    image = Image.merge("RGB", (horizontal, vertical, Image.new("L", (width, height), 128)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "MEDIA_ROOT": str(tmp / "media"),
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RATE_LIMIT_VALIDATE": "0/minute",
    }
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=4, help="large images validated at once")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print("making a 6000x6600 PNG ...", flush=True)
    picture = _large_png()
    print(f"  {len(picture) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory(prefix="adsvideo-loop-") as tmp:
        process, url = _serve(Path(tmp))
        try:
            idle = []
            for _ in range(50):
                start = time.perf_counter()
                httpx.get(f"{url}/healthz")
                idle.append(time.perf_counter() - start)
            busy: list[float] = []
            validations: list[float] = []
            for _ in range(args.rounds):

                def validate() -> None:
                    start = time.perf_counter()
                    r = httpx.post(f"{url}/api/v1/upload/validate", files={"file": ("big.png", picture)}, timeout=300)
                    validations.append(time.perf_counter() - start)
                    assert r.status_code in (200, 422), r.text

                workers = [threading.Thread(target=validate) for _ in range(args.images)]
                for worker in workers:
                    worker.start()
                while any(w.is_alive() for w in workers):
                    start = time.perf_counter()
                    httpx.get(f"{url}/healthz", timeout=60)
                    busy.append(time.perf_counter() - start)
                    time.sleep(0.02)
                for worker in workers:
                    worker.join()
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    ms = lambda s: s * 1000  # noqa: E731
    print(
        f"/healthz idle                      p50 {ms(_percentile(idle, 0.5)):7.1f} ms   "
        f"p99 {ms(_percentile(idle, 0.99)):7.1f} ms   (n={len(idle)})"
    )
    print(
        f"/healthz during {args.images} validations      p50 {ms(_percentile(busy, 0.5)):7.1f} ms   "
        f"p99 {ms(_percentile(busy, 0.99)):7.1f} ms   max {ms(max(busy)):7.1f} ms   (n={len(busy)})"
    )
    print(
        f"one validation of the large PNG   p50 {_percentile(validations, 0.5):7.2f} s    "
        f"max {max(validations):7.2f} s    (n={len(validations)})"
    )


if __name__ == "__main__":
    main()
