"""What the operations tests share: reading Prometheus text, reading JSON log files, a Sentry receiver."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus text exposition, keyed by (name, labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(parsed: dict, name: str, **labels: str) -> float:
    """One sample's value (0 when absent: a counter that never moved is not exported yet)."""
    return parsed.get((name, frozenset(labels.items())), 0.0)


def total(parsed: dict, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in parsed.items() if n == name and wanted <= set(ls))


def json_lines(path: Path) -> list[dict]:
    """Every line of a log file, each parsed as one JSON object (a line that is not one fails the test)."""
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"{path.name}:{number} is not a JSON object: {line!r}") from exc
        assert isinstance(record, dict), f"{path.name}:{number}: {line!r}"
        records.append(record)
    return records


class SentryReceiver:
    """A local HTTP server speaking Sentry's envelope protocol: it keeps every event it is sent.

    DSN: `http://<key>@127.0.0.1:<port>/<project>`; the SDK posts envelopes to /api/<project>/envelope/
    (gzip or brotli compressed); each envelope is a header line, then items of a header line and a payload.
    """

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                encoding = (self.headers.get("content-encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                if self.path.rstrip("/").endswith("/envelope"):
                    receiver._take(parse_envelope(body))
                elif self.path.rstrip("/").endswith("/store"):
                    receiver._take([("event", json.loads(body))])
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _take(self, items: list[tuple[str, dict]]) -> None:
        with self.lock:
            self.events.extend(payload for kind, payload in items if kind == "event")

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server.server_address[1]}/1"

    def __enter__(self) -> SentryReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.events)


def parse_envelope(body: bytes) -> list[tuple[str, dict]]:
    """[(item type, payload)] of an envelope."""
    lines = body.split(b"\n", 1)
    rest = lines[1] if len(lines) > 1 else b""
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        length = header.get("length")
        if length is not None:
            payload, rest = rest[:length], rest[length + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        try:
            items.append((header.get("type", ""), json.loads(payload)))
        except ValueError:
            items.append((header.get("type", ""), {}))
    return items
