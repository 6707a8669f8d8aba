"""The Procfile's production shape across "machines": its own `release`, `web` and `worker` lines (read from
the Procfile) run as two web processes and two workers, each in its own private directory with no shared
MEDIA_ROOT, on PostgreSQL, Redis and an S3 server. Media can only meet in the bucket.

Web A signs the user in and takes the upload and the order, a worker makes the video, web B streams the
progress, web A redirects to the video (it plays with Range from the bucket, in Chromium too), the poster
shows on My videos, deleting removes the objects. Then a worker is SIGKILLed mid-job and web B is SIGTERMed
mid-stream: the job completes once and is charged once, and the stream resumes on web A.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis
from honcho.environ import parse_procfile
from PIL import Image

from app import db
from app.accounts import tokens
from app.accounts import users as users_service
from app.config import ROOT, get_settings
from app.media.render import probe
from tests.conftest import run_blocking
from tests.e2e.conftest import free_port
from tests.e2e.sse import EventReader, sign_in
from tests.emulators import run_openai_emulator
from tests.google_emulator import RunningEmulator
from tests.jobs_support import STEPS, distinct_steps, ledger_of, provider_jobs
from tests.s3_server import new_bucket, s3_client
from tests.services import POSTGRES_URL, REDIS_URL, require

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.browser]

PREFIX = "shape"


@dataclass
class Machine:
    """One Procfile process on its own "machine": a private directory for its disk and temp files."""

    name: str
    role: str
    root: Path
    env: dict[str, str]
    process: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)  # the shell and everything it started
        except ProcessLookupError:
            pass

    def wait_gone(self, timeout: float) -> None:
        """Until every process of the machine has exited."""
        deadline = time.monotonic() + timeout
        while _group_alive(self):
            assert time.monotonic() < deadline, f"{self.name} is still running:\n{self.output()[-3000:]}"
            self.process.poll()
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stored_files(self) -> list[str]:
        """Files on this machine's disk outside work areas (there must be none: media lives in the bucket)."""
        media = self.root / "media"
        return (
            [
                str(p.relative_to(media))
                for p in media.rglob("*")
                if p.is_file() and p.relative_to(media).parts[0] not in ("_emulators",)
            ]
            if media.exists()
            else []
        )


@dataclass
class Shape:
    web_a: Machine
    web_b: Machine
    workers: list[Machine]
    shared: dict[str, str]
    bucket: str
    s3_endpoint: str
    openai: str
    base: Path
    all: list[Machine] = field(default_factory=list)

    def add_worker(self, name: str) -> Machine:
        worker = _start("worker", name, self.base, self.shared)
        self.all.append(worker)
        self.workers.append(worker)
        _wait_ready(worker)
        return worker

    def cli(self, *args: str) -> str:
        env = {**self.shared, "MEDIA_ROOT": str(self.web_a.root / "media")}
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=self.web_a.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def keys(self, prefix: str = "") -> list[str]:
        listing = s3_client(self.s3_endpoint).list_objects_v2(Bucket=self.bucket, Prefix=f"{PREFIX}/{prefix}")
        return sorted(o["Key"].removeprefix(f"{PREFIX}/") for o in listing.get("Contents", []))


def procfile() -> dict[str, str]:
    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)


def _start(role: str, name: str, base: Path, shared: dict[str, str], **extra: str) -> Machine:
    root = base / name
    (root / "tmp").mkdir(parents=True)
    env = {**shared, "MEDIA_ROOT": str(root / "media"), "TMPDIR": str(root / "tmp"), **extra}
    port = None
    if role == "web":
        port = free_port()
        env.update(PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}")
    log = root / f"{role}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["/bin/sh", "-c", procfile()[role]],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Machine(name, role, root, env, process, log, port)


def _wait_ready(machine: Machine, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if machine.process.poll() is not None:
            raise RuntimeError(f"{machine.name} exited:\n{machine.output()}")
        if machine.role == "web":
            try:
                if httpx.get(f"{machine.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        elif "Worker process is ready" in machine.output():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{machine.name} did not get ready:\n{machine.output()}")


def _processes(machine: Machine) -> list[str]:
    """The command names of the machine's live processes (its process group)."""
    names = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == machine.process.pid and fields[0] != "Z":
                names.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return names


def _group_alive(machine: Machine) -> bool:
    try:
        os.killpg(machine.process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(machine: Machine) -> None:
    """SIGTERM the machine's whole process group; SIGKILL whatever is left after 30 s (nothing may linger:
    a stray worker would take the next test's jobs)."""
    if _group_alive(machine):
        machine.signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _group_alive(machine) and time.monotonic() < deadline:
            machine.process.poll()
            time.sleep(0.2)
        if _group_alive(machine):
            machine.signal(signal.SIGKILL)
    machine.process.wait()


async def _create_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def shape(tmp_path_factory, s3_server):
    require("postgres")
    require("redis")
    base = tmp_path_factory.mktemp("machines")
    name = f"adsvideo_shape_{uuid.uuid4().hex[:10]}"
    run_blocking(_create_database(name))
    database_url = f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    bucket = new_bucket(s3_server)
    machines: list[Machine] = []
    with (
        RunningEmulator() as google,
        run_openai_emulator(generation_seconds=8.0) as openai_url,
        pytest.MonkeyPatch.context() as patch,
    ):
        shared = {
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "ADSVIDEO_ENV_FILE": "",
            "APP_ENV": "development",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_CHANNEL_PREFIX": f"t{uuid.uuid4().hex[:8]}:",
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": s3_server,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "test-key",
            "S3_SECRET_ACCESS_KEY": "test-secret",
            "S3_KEY_PREFIX": PREFIX,
            "GOOGLE_DISCOVERY_URL": f"{google.issuer}/.well-known/openid-configuration",
            "USE_MOCK_SORA": "true",
            "OPENAI_BASE_URL": openai_url,
            "USE_MOCK_RUNWAY": "true",
            "JOB_POLL_INTERVAL_SECONDS": "0.3",
            "JOB_STALE_SECONDS": "10",
            "RECONCILE_INTERVAL_SECONDS": "1",
            "WEB_CONCURRENCY": "1",
        }
        release = subprocess.run(
            ["/bin/sh", "-c", procfile()["release"]],
            cwd=base,
            capture_output=True,
            text=True,
            env={**shared, "MEDIA_ROOT": str(base / "release")},
            timeout=180,
        )
        assert release.returncode == 0, release.stderr
        try:
            # Web A runs two uvicorn processes behind its port (WEB_CONCURRENCY), web B one.
            machines.append(_start("web", "web-a", base, shared, WEB_CONCURRENCY="2"))
            for role, machine_name in (("web", "web-b"), ("worker", "worker-1"), ("worker", "worker-2")):
                machines.append(_start(role, machine_name, base, shared))
            for machine in machines:
                _wait_ready(machine)
            # This test process reads the shared database directly (users, tokens, the ledger).
            patch.setenv("DATABASE_URL", database_url)
            get_settings.cache_clear()
            db.bind_engine(db.make_engine(database_url))
            yield Shape(machines[0], machines[1], machines[2:], shared, bucket, s3_server, openai_url, base, machines)
        finally:
            for machine in machines:
                _stop(machine)
            get_settings.cache_clear()
            run_blocking(_drop_database(name))


def photo() -> bytes:
    image = Image.new("RGB", (1600, 900), (230, 120, 40))
    image.paste((40, 90, 200), (400, 200, 1200, 700))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def signed_up(shape: Shape) -> tuple[str, httpx.Client, dict[str, str]]:
    """A new user signed in on web A (page session), on the Basic plan, with an API token too."""
    email = f"shape-{uuid.uuid4().hex[:8]}@example.com"
    client = httpx.Client(base_url=shape.web_a.url, timeout=30)
    sign_in(client, email)
    shape.cli("set-plan", email, "basic")
    user = run_blocking(users_service.get_user_by_email(email))
    token = run_blocking(tokens.issue_pair(user.id)).access_token
    return email, client, {"Authorization": f"Bearer {token}"}


def order_video(shape: Shape, headers: dict[str, str]) -> tuple[int, str]:
    """Upload the photo and order a video, both on web A; returns (video id, prompt)."""
    with httpx.Client(base_url=shape.web_a.url, timeout=30, headers=headers) as api:
        uploaded = api.post("/api/v1/upload/image", files={"file": ("product.jpg", photo(), "image/jpeg")})
        assert uploaded.status_code == 201, uploaded.text
        prompt = f"A desk lamp on an oak table, soft morning light #{uuid.uuid4().hex[:8]}"
        body = {
            "prompt": prompt,
            "model": "sora-2",
            "duration": 4,
            "resolution": "1280x720",
            "reference_image_id": uploaded.json()["id"],
        }
        ordered = api.post("/api/v1/videos/generate", json=body)
        assert ordered.status_code == 202, ordered.text
        return ordered.json()["id"], prompt


class Watcher(threading.Thread):
    """Reads one SSE stream of JSON events in the background; `events` fills as they arrive."""

    def __init__(self, url: str, headers: dict[str, str], last_event_id: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, dict(headers)
        if last_event_id:
            self.headers["Last-Event-ID"] = last_event_id
        self.events: list[dict] = []
        self.ids: list[str] = []
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10, read=60)) as client,
                client.stream("GET", self.url, headers=self.headers) as response,
            ):
                assert response.status_code == 200, response.status_code
                reader = EventReader(response)
                while (event := reader.next()) is not None:
                    self.events.append(event.json())
                    self.ids.append(event.id)
                    if event.event == "done":
                        break
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.ended.set()

    def wait_for(self, predicate, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not any(predicate(e) for e in self.events):
            assert not self.ended.is_set() or any(predicate(e) for e in self.events), (
                f"the stream ended before {what}: {self.events} {self.error}"
            )
            assert time.monotonic() < deadline, f"no {what} within {timeout}s: {self.events}"
            time.sleep(0.05)

    @property
    def done(self) -> bool:
        return bool(self.events) and self.events[-1]["done"]


def _runner(shape: Shape, video_id: int) -> Machine:
    """The worker whose log says it is working on `video_id`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        busy = [w for w in shape.workers if f"video {video_id}: working on it" in w.output()]
        if busy:
            return busy[0]
        time.sleep(0.1)
    raise AssertionError("no worker says it is working on the video")


def test_the_production_shape_across_machines(shape, browser):
    # The web line honours WEB_CONCURRENCY: web A is a supervisor and two app processes.
    assert sum("spawn_main" in p for p in _processes(shape.web_a)) == 2, _processes(shape.web_a)
    email, page_client, headers = signed_up(shape)
    # The session made on web A is good on web B: sessions live in the shared store.
    with httpx.Client(base_url=shape.web_b.url, cookies=page_client.cookies, timeout=30) as on_b:
        assert on_b.get("/account").status_code == 200

    video_id, _ = order_video(shape, headers)
    watcher = Watcher(f"{shape.web_b.url}/api/v1/videos/{video_id}/events", headers)
    watcher.join(timeout=120)
    assert watcher.done, (watcher.events, watcher.error)
    seen = distinct_steps([e["step"] for e in watcher.events])
    assert seen == STEPS[STEPS.index(seen[0]) :]  # the worker may have started before the stream opened
    assert _runner(shape, video_id) in shape.workers
    final = watcher.events[-1]
    video_url, poster_url = final["video_url"], final["poster_url"]

    # Nothing is on any machine's disk: uploads, the video and its poster are in the bucket.
    video_key, poster_key = video_url.removeprefix("/media/"), poster_url.removeprefix("/media/")
    assert {video_key, poster_key} <= set(shape.keys())
    assert [m.stored_files() for m in shape.all] == [[], [], [], []]

    # Web A checks the owner, then sends the player to the bucket, where Range works.
    answer = page_client.get(video_url)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(f"{shape.s3_endpoint}/{shape.bucket}/{PREFIX}/videos/")
    whole = httpx.get(location)
    part = httpx.get(location, headers={"Range": "bytes=1000-1999"})
    assert (part.status_code, part.content) == (206, whole.content[1000:2000])
    clip_path = shape.web_a.root / "tmp" / "check.mp4"
    clip_path.write_bytes(whole.content)
    clip = probe(clip_path)
    assert (clip["codec"], clip["width"], clip["height"]) == ("h264", 1280, 720)

    # My videos (web A) shows the poster, fetched from the bucket.
    library = page_client.get("/videos")
    assert poster_url in library.text
    poster = httpx.get(page_client.get(poster_url).headers["location"])
    assert poster.status_code == 200 and poster.content[:4] == b"RIFF"

    # In Chromium, on web A: the video plays from the bucket and seeking works.
    _play_and_seek(browser, shape, email, video_id)

    # Deleting the video removes its objects from the bucket.
    with httpx.Client(base_url=shape.web_a.url, timeout=30, headers=headers) as api:
        assert api.delete(f"/api/v1/videos/{video_id}").status_code == 204
    assert not {video_key, poster_key} & set(shape.keys())
    assert httpx.get(location).status_code == 404


def _play_and_seek(browser, shape: Shape, email: str, video_id: int) -> None:
    context = browser.new_context(base_url=shape.web_a.url)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        from_bucket: list[int] = []
        page.on("response", lambda r: from_bucket.append(r.status) if r.url.startswith(shape.s3_endpoint) else None)
        page.goto(f"/auth/login?login_hint={email}&next=/videos/{video_id}")
        page.wait_for_url(f"**/videos/{video_id}")
        player = page.locator("video")
        player.wait_for()
        page.evaluate("v => { v.muted = true; return v.play(); }", player.element_handle())
        page.wait_for_function("v => v.currentTime > 0.5", arg=player.element_handle())
        page.evaluate(
            """v => new Promise(resolve => {
            v.addEventListener('seeked', () => resolve(), {once: true});
            v.currentTime = 3;
        })""",
            player.element_handle(),
        )
        assert page.evaluate("v => v.currentTime", player.element_handle()) >= 2.9
        assert 206 in from_bucket  # the player's range requests went to the bucket
    finally:
        context.close()


def test_a_killed_worker_and_a_stopped_web_process_lose_nothing(shape):
    _, _, headers = signed_up(shape)
    video_id, prompt = order_video(shape, headers)
    watcher = Watcher(f"{shape.web_b.url}/api/v1/videos/{video_id}/events", headers)
    watcher.wait_for(lambda e: e["step"] == "generating", "the generating step")

    # SIGKILL the worker running the job: no goodbye, its message is left unacknowledged.
    runner = _runner(shape, video_id)
    runner.signal(signal.SIGKILL)
    runner.wait_gone(timeout=10)
    survivor = next(w for w in shape.workers if w is not runner)

    # SIGTERM web B mid-stream: it ends the stream at once (before the job is done), then exits.
    shape.web_b.signal(signal.SIGTERM)
    assert watcher.ended.wait(timeout=15), "web B kept the stream open after SIGTERM"
    assert watcher.error is None, watcher.error
    assert not watcher.done
    shape.web_b.wait_gone(timeout=30)
    assert "Traceback" not in shape.web_b.output(), shape.web_b.output()

    # The client reconnects to web A with Last-Event-ID and gets the rest, nothing twice.
    resumed = Watcher(f"{shape.web_a.url}/api/v1/videos/{video_id}/events", headers, watcher.ids[-1])
    resumed.join(timeout=120)
    assert resumed.done, (resumed.events, resumed.error)
    ids = [int(i) for i in watcher.ids + resumed.ids]
    assert ids == sorted(set(ids))
    seen = distinct_steps([e["step"] for e in watcher.events + resumed.events])
    assert seen == STEPS[STEPS.index(seen[0]) :]  # from the step it was at when watched, every one to the end
    assert f"video {video_id}: working on it" in survivor.output()

    # Made once, charged once.
    assert len(provider_jobs(shape.openai, prompt)) == 1
    assert run_blocking(ledger_of(video_id)) == [("generation", -100, 1)]
    assert resumed.events[-1]["status"] == "completed"
    assert "videos/" in resumed.events[-1]["video_url"]


def test_a_worker_told_to_stop_hands_its_job_to_another(shape):
    alive = [w for w in shape.workers if _group_alive(w)]
    if len(alive) < 2:
        shape.add_worker(f"worker-{len(shape.workers) + 1}")
    _, _, headers = signed_up(shape)
    video_id, prompt = order_video(shape, headers)
    watcher = Watcher(f"{shape.web_a.url}/api/v1/videos/{video_id}/events", headers)
    watcher.wait_for(lambda e: e["step"] == "generating", "the generating step")

    runner = _runner(shape, video_id)
    runner.signal(signal.SIGTERM)
    runner.wait_gone(timeout=30)
    other = next(w for w in shape.workers if w is not runner and _group_alive(w))

    watcher.join(timeout=120)
    assert watcher.done and watcher.events[-1]["status"] == "completed", (watcher.events, watcher.error)
    # Handed back through the queue (not found later by the reconciler), resumed on the same provider job.
    assert f"video {video_id}: working on it in process" in other.output()
    resumed = [line for line in other.output().splitlines() if f"video {video_id}: working on it" in line]
    assert resumed and "taking over" not in resumed[0], runner.output()[-3000:] + "\n=====\n" + other.output()[-5000:]
    assert len(provider_jobs(shape.openai, prompt)) == 1
    assert run_blocking(ledger_of(video_id)) == [("generation", -100, 1)]
