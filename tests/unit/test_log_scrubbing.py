"""What never reaches a log line or an error report: emails, tokens, cookies, URL passwords, known secrets."""

from __future__ import annotations

import json
import subprocess
import sys

from app.config import ROOT
from app.ops import redact


def test_strings_lose_emails_tokens_and_credentials_but_keep_the_rest():
    assert redact.text("signed in ada@example.com") == "signed in [email]"
    assert redact.text("postgres://app:hunter22@db:5432/x") == "postgres://app:[redacted]@db:5432/x"
    assert redact.text("Authorization: Bearer abc.def-123456") == "Authorization: Bearer [redacted]"
    assert (
        redact.text("/auth/google/callback?code=4/0Ab&state=xyz")
        == "/auth/google/callback?code=[redacted]&state=[redacted]"
    )
    assert redact.text("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature") == "[redacted]"
    assert redact.text("session=abc123def; csrftoken=zz99zz99") == "session=[redacted]; csrftoken=[redacted]"
    assert redact.text("video 12: generating (status_code=200)") == "video 12: generating (status_code=200)"


def test_fields_named_for_a_secret_are_replaced_whole():
    cleaned = redact.value({"email": "a@b.co", "user_id": 7, "headers": {"cookie": "s=1", "accept": "*/*"}})
    assert cleaned == {"email": "[redacted]", "user_id": 7, "headers": {"cookie": "[redacted]", "accept": "*/*"}}


SCRIPT = """
import logging
from app.ops import context
from app.ops.logs import setup_logging
setup_logging("json", "INFO", secrets=["registered-secret-value-123"])
context.bind(request_id="r-1", user_id=5)
log = logging.getLogger("adsvideo.test")
log.info("hello %s", "ada@example.com", extra={"api_key": "sk-live-1", "video_id": 9})
log.warning("key is registered-secret-value-123")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("boom for bob@example.com")
"""


def test_json_mode_writes_one_scrubbed_object_per_line_with_the_context():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["event"] for line in lines] == ["hello [email]", "key is [redacted]", "boom for [email]"]
    assert all(line["request_id"] == "r-1" and line["user_id"] == 5 for line in lines)
    assert lines[0]["api_key"] == "[redacted]" and lines[0]["video_id"] == 9
    assert lines[2]["level"] == "error" and "ZeroDivisionError" in lines[2]["exception"]
    assert "example.com" not in done.stderr
