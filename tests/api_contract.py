"""The API against its own OpenAPI document, with schemathesis: no 5xx, every response as documented.

Runs twice against a real server (uvicorn, SQLite, emulators): unauthenticated, then as a Pro user with
a bearer token. With Redis at hand the server is a web process without a worker, as on a PaaS before the
worker starts: thousands of fuzzed generates are queued, not rendered (the answers are what is checked). `python -m tests.api_contract [--max-examples N]`; exits non-zero on any failure.
`.ci/run` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.e2e.conftest import start_server, stop_server
from tests.services import reachable

REDIS_URL = os.environ.get("CONTRACT_REDIS_URL", "redis://127.0.0.1:6379/11")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PRO_EMAIL = "contract-pro@example.com"


async def _pro_token() -> str:
    """A Pro user (with credits) and an access token for them, made in the server's database."""
    from app import db
    from app.accounts import tokens, users
    from app.billing import plans
    from app.billing.plans import Plan

    db.bind_engine(db.make_engine(os.environ["DATABASE_URL"]))
    user, _ = await users.sign_in_google_user(
        users.GoogleIdentity(sub="contract-pro", email=PRO_EMAIL, name="Contract Pro", picture=None)
    )
    await plans.set_plan(user.id, Plan.pro, months=1, grant=True)
    pair = await tokens.issue_pair(user.id)
    return pair.access_token


def _schemathesis(url: str, max_examples: int, report: Path, *headers: str) -> int:
    """Run in the report's folder, so schemathesis keeps its example cache out of the repository."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(max_examples),
        "--generation-deterministic",
        "--request-timeout",
        "20",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--suppress-health-check",
        "all",
        # The live-progress streams never end by themselves: documented as text/event-stream, not fuzzed.
        "--exclude-path-regex",
        "/events$",
    ]
    for header in headers:
        command += ["-H", header]
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, cwd=report.parent).returncode


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="adsvideo-contract-"))
    queue = {"REDIS_URL": REDIS_URL, "REDIS_CHANNEL_PREFIX": "contract:"} if reachable(REDIS_URL) else {}
    server = start_server(
        tmp,
        MOCK_GENERATION_SECONDS="0",
        # Thousands of generated requests from one address: the limits are tested on their own.
        RATE_LIMIT_SIGN_IN="0/minute",
        RATE_LIMIT_REFRESH="0/minute",
        RATE_LIMIT_UPLOAD="0/minute",
        RATE_LIMIT_VALIDATE="0/minute",
        RATE_LIMIT_GENERATE="0/minute",
        MAX_QUEUED_JOBS_PER_USER="100000",
        **queue,
    )
    try:
        for name, value in server.env.items():
            os.environ[name] = value
        token = asyncio.run(_pro_token())
        import httpx

        me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        if me.status_code != 200:
            raise RuntimeError(f"the Pro user's token does not work: {me.status_code} {me.text}")
        anonymous = _schemathesis(server.url, args.max_examples, tmp / "anonymous.xml")
        pro = _schemathesis(server.url, args.max_examples, tmp / "pro.xml", f"Authorization: Bearer {token}")
        print(f"anonymous: {'ok' if anonymous == 0 else 'FAILED'}; pro user: {'ok' if pro == 0 else 'FAILED'}")
        return 1 if anonymous or pro else 0
    finally:
        stop_server(server)
        if queue:
            import redis

            redis.Redis.from_url(REDIS_URL).flushdb()
        if os.environ.get("KEEP_CONTRACT_TMP") is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
