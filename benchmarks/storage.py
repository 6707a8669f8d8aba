"""Object storage through the S3 backend, against moto's S3 server in its own process on loopback.

    python -m benchmarks.run storage

Prints upload and download speed of a large video (in parts, streamed), the client's peak memory while
doing it, and how many presigned URLs (the cost of a /media redirect) one process makes per second, fresh and reused.
moto keeps objects in memory and is far slower than a real service: the speeds are a floor.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

MiB = 1024 * 1024
SIZE_MIB = 64
N_PRESIGN = 5000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_storage() -> None:
    import boto3

    from app.media.s3 import S3Storage

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto did not start") from None
                time.sleep(0.1)
        keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys).create_bucket(Bucket="bench")
        store = S3Storage(bucket="bench", endpoint_url=endpoint, access_key_id="bench", secret_access_key="bench")
        with tempfile.TemporaryDirectory() as tmp:
            source, back = Path(tmp) / "big.mp4", Path(tmp) / "back.mp4"
            with source.open("wb") as out:
                for _ in range(SIZE_MIB):
                    out.write(os.urandom(MiB))
            tracemalloc.start()
            start = time.perf_counter()
            store.save_file("videos/bench/big.mp4", source)
            upload = time.perf_counter() - start
            upload_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            start = time.perf_counter()
            store.download_file("videos/bench/big.mp4", back)
            download = time.perf_counter() - start
            download_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        print(
            f"S3 upload {SIZE_MIB} MiB (8 MiB parts){'':<14} {SIZE_MIB / upload:8.1f} MiB/s   "
            f"peak client memory {upload_peak / MiB:5.1f} MiB"
        )
        print(
            f"S3 download {SIZE_MIB} MiB{'':<25} {SIZE_MIB / download:8.1f} MiB/s   "
            f"peak client memory {download_peak / MiB:5.1f} MiB"
        )
        start = time.perf_counter()
        for n in range(N_PRESIGN):
            store.presigned_url(f"videos/bench/{n}.mp4")
        elapsed = time.perf_counter() - start
        print(
            f"presigned URLs, distinct files{'':<15} {N_PRESIGN / elapsed:8.0f} /s     "
            f"{elapsed / N_PRESIGN * 1e6:6.0f} µs each"
        )
        start = time.perf_counter()
        for _ in range(N_PRESIGN):
            store.presigned_url("videos/bench/0.mp4")
        elapsed = time.perf_counter() - start
        print(
            f"presigned URLs, the same file again (reused){'':<1} {N_PRESIGN / elapsed:8.0f} /s     "
            f"{elapsed / N_PRESIGN * 1e6:6.0f} µs each"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
