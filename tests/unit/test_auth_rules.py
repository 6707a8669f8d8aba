"""Small rules of sign-in: where `next` may point, profile validation messages."""

from __future__ import annotations

import pytest

from app.accounts.google_signin import safe_next


@pytest.mark.parametrize(
    "value,expected",
    [
        ("/create", "/create"),
        ("/videos?page=2#top", "/videos?page=2#top"),
        (None, "/"),
        ("", "/"),
        ("create", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/\tevil", "/"),
    ],
)
def test_safe_next(value, expected):
    assert safe_next(value) == expected
