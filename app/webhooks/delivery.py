"""One webhook delivery over HTTP: a signed POST, and what came back."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from functools import lru_cache

import httpx

from app.webhooks.signing import signed_headers
from app.webhooks.targets import BlockedTarget, parse_target, public_address

USER_AGENT = "AdsVideo-Webhooks/1"
RESPONSE_EXCERPT = 500


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every delivery: building one costs ~0.2 s of CPU (the CA bundle)."""
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: `status_code` None means no HTTP answer (see `error`)."""

    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    response_excerpt: str = ""
    # The SSRF guard refused the target; nothing was sent.
    blocked: bool = False


def _pinned(url: str, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL with the checked address in place of the host name, so the connection cannot be
    re-resolved elsewhere; the Host header and TLS (SNI and certificate) still use the name."""
    original = httpx.URL(url)
    return (
        original.copy_with(host=address),
        {"host": original.netloc.decode("ascii")},
        {"sni_hostname": original.host},
    )


async def _excerpt(response: httpx.Response) -> str:
    """The start of the answer, for the delivery log (a huge body is not read to its end)."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= RESPONSE_EXCERPT:
            break
    return data[:RESPONSE_EXCERPT].decode("utf-8", errors="replace")


async def post_event(
    url: str, secret: str, message_id: str, body: str, *, allow_private: bool, timeout: float
) -> Attempt:
    """POST `body` (JSON) to `url`, signed with `secret`. With `allow_private` False (production),
    the host's addresses are checked now, at delivery time, and the connection goes to the checked one."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    target = parse_target(url)
    headers = {"content-type": "application/json", "user-agent": USER_AGENT, **signed_headers(secret, message_id, body)}
    extensions: dict[str, str] = {}
    if not allow_private:
        try:
            address = await public_address(target)
        except BlockedTarget as exc:
            return Attempt(False, None, f"refused: {exc}", elapsed(), blocked=True)
        pinned, host_header, extensions = _pinned(url, address)
        headers.update(host_header)
        url = str(pinned)
    try:
        # No proxies from the environment and no redirects: either could lead to an unchecked address.
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls()) as client,
            client.stream("POST", url, content=body.encode(), headers=headers, extensions=extensions) as response,
        ):
            excerpt = await _excerpt(response)
    except httpx.TimeoutException:
        return Attempt(False, None, f"no answer within {timeout:g} s", elapsed())
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"could not connect ({exc.__class__.__name__}: {exc})", elapsed())
    ok = 200 <= response.status_code < 300
    error = None if ok else f"answered HTTP {response.status_code}"
    return Attempt(ok, response.status_code, error, elapsed(), excerpt)
