"""Malformed input is refused at the edge with a 4xx, before any handler or database sees it.

- Whole numbers in the path, in integer query parameters and in JSON bodies must fit the database's
  integer column (both SQLite and PostgreSQL): an id beyond it is "not found", a page beyond it invalid.
- Text may not contain NUL (PostgreSQL cannot store it): not in the path, the query or a form/JSON body.
- A JSON body is at most `MAX_JSON_KB` and nested at most `MAX_JSON_DEPTH` levels deep.
"""

from __future__ import annotations

import re
import types
import typing
from itertools import accumulate
from urllib.parse import parse_qsl

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError, NotFound

# PostgreSQL `integer`; SQLite's 64-bit integers hold it too, so one bound serves both.
MAX_INT = 2**31 - 1

_NUL = re.compile(rb"%00|\x00")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_NUL = re.compile(rb"\\u0000")
_BIG_NUMBER = re.compile(rb"-?\d{10,}")


class BadInput(AppError):
    status_code = 422
    code = "validation_error"


class JsonTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


def _is_int(annotation: object) -> bool:
    """`int`, `int | None` or `Annotated[...]` of those."""
    if annotation is int:
        return True
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_int(args[0]) if args else False
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and len(args) == 1 and _is_int(args[0])


def _int_query_names(handler: object) -> set[str]:
    """Query keys the handler parses as integers (by their alias when they have one)."""
    cached = getattr(handler, "_int_query_names", None)
    if cached is not None:
        return cached
    names: set[str] = set()
    signature = getattr(handler, "parsed_fn_signature", None)
    for name, field in (getattr(signature, "parameters", None) or {}).items():
        if _is_int(field.annotation):
            alias = getattr(field.kwarg_definition, "query", None) if field.kwarg_definition else None
            names.add(alias or name)
    try:
        handler._int_query_names = names  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return names


def _out_of_range(value: str) -> bool:
    text = value.strip()
    if not text.lstrip("+-").isdigit():
        return False
    return abs(int(text)) > MAX_INT


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON document nest (strings ignored)."""
    skeleton = _JSON_STRING.sub(b"", body).translate(None, delete=bytes(set(range(256)) - set(b"[]{}")))
    if not skeleton:
        return 0
    steps = (1 if c in b"[{" else -1 for c in skeleton)
    return max(accumulate(steps))


def check_json(body: bytes, *, max_depth: int) -> None:
    """Raise BadInput for a JSON body that nests too deeply, carries NUL or a number beyond MAX_INT."""
    if _JSON_NUL.search(body):
        raise BadInput("Text may not contain the NUL character (\\u0000).")
    depth = json_depth(body)
    if depth > max_depth:
        raise BadInput(f"The JSON body nests {depth} levels deep; at most {max_depth} are accepted.")
    outside_strings = _JSON_STRING.sub(b'""', body)
    for match in _BIG_NUMBER.finditer(outside_strings):
        if abs(int(match.group())) > MAX_INT:
            raise BadInput(f"Numbers are at most {MAX_INT}; {match.group().decode()[:24]} is out of range.")


def check_query(scope: Scope) -> None:
    raw = scope.get("query_string", b"")
    if _NUL.search(raw):
        raise BadInput("Text may not contain the NUL character.")
    names = _int_query_names(scope.get("route_handler"))
    if not names or not raw:
        return
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in names and _out_of_range(value):
            raise BadInput(f"{key}: must be at most {MAX_INT}.")


def check_path(scope: Scope) -> None:
    if "\x00" in scope.get("path", "") or _NUL.search(scope.get("raw_path") or b""):
        raise BadInput("The address may not contain the NUL character.")
    for value in (scope.get("path_params") or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise NotFound("Not found.")


class InputGuardMiddleware(ASGIMiddleware):
    """Applies the checks above; a JSON or form body is read (within its limit), checked and replayed."""

    def __init__(self, *, max_json_bytes: int, max_json_depth: int) -> None:
        self.max_json_bytes = max_json_bytes
        self.max_json_depth = max_json_depth

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        check_path(scope)
        check_query(scope)
        content_type = _content_type(scope)
        is_json = content_type == "application/json" or content_type.endswith("+json")
        is_form = content_type == "application/x-www-form-urlencoded"
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or not (is_json or is_form):
            await next_app(scope, receive, send)
            return
        body = await self._read(receive, limit=self.max_json_bytes if is_json else None)
        if is_json:
            check_json(body, max_depth=self.max_json_depth)
        elif _NUL.search(body):
            raise BadInput("Text may not contain the NUL character.")
        await next_app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, *, limit: int | None) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                raise JsonTooLarge(f"The JSON body is larger than {limit // 1024} KB, the most we accept.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def _replay(body: bytes, original: Receive) -> Receive:
    """The body once, then the client's own messages (a disconnect, when it comes)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
