"""Stripe's request parameters: form bodies with bracketed keys (`line_items[0][price]=...`) into
nested dicts and lists, the way the API reads what the `stripe` SDK encodes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class ParamError(ValueError):
    """A parameter Stripe would refuse; `param` names it as Stripe's errors do."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.message, self.param = message, param


def _listify(node: Any) -> Any:
    """Dicts whose keys are all indexes become lists (`a[0]`, `a[1]`; and `a[]` appends)."""
    if not isinstance(node, dict):
        return node
    for key, value in node.items():
        node[key] = _listify(value)
    if node and all(isinstance(k, int) for k in node):
        return [node[k] for k in sorted(node)]
    return node


def parse_params(text: str) -> dict[str, Any]:
    """`a[b][0][c]=v&x=y` as `{"a": {"b": [{"c": "v"}]}, "x": "y"}` (values stay strings)."""
    root: dict[Any, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if not match:
            raise ParamError(f"Invalid parameter name: {raw_key}", raw_key)
        parts: list[Any] = [match.group(1)]
        for part in re.findall(r"\[([^\[\]]*)\]", match.group(2)):
            parts.append(int(part) if part.isdigit() else part)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `a[]`: the next free index
                part = len(node)
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ParamError(f"Invalid parameter name: {raw_key}", raw_key)
                node = child
    return _listify(root)


def as_bool(params: dict, name: str, default: bool | None = None) -> bool | None:
    value = params.get(name)
    if value is None:
        return default
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise ParamError(f"Invalid boolean: {value}", name)


def as_int(params: dict, name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ParamError(f"Invalid integer: {value}", name) from None


def metadata(params: dict, name: str = "metadata") -> dict[str, str]:
    value = params.get(name, {})
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ParamError("Invalid object", name)
    return {str(k): str(v) for k, v in value.items()}


def expand_list(params: dict) -> list[str]:
    value = params.get("expand", [])
    return [value] if isinstance(value, str) else list(value)
