"""Webhook target rules: URL shape, which addresses count as public, and the pinned connection."""

from __future__ import annotations

import pytest

from app.webhooks.delivery import _pinned
from app.webhooks.targets import (
    InvalidTarget,
    is_public,
    parse_target,
    refuse_private_literal,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:0a00:0001::1",
        "2001:db8::1",
        "fe80::1%eth0",
    ],
)
def test_internal_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address):
    assert is_public(address)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the URL"),
        ("ftp://example.com/x", "must start with https://"),
        ("https:///path", "no host name"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com/#frag", "#fragment"),
        ("https://example.com:99999/", "not valid"),
        ("https://example.com/" + "a" * 2100, "longer than"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url, message):
    with pytest.raises(InvalidTarget, match=message):
        parse_target(url)


def test_a_target_knows_its_port():
    assert parse_target("https://hooks.example.com/x").port == 443
    assert parse_target("http://hooks.example.com:8080/x").port == 8080


@pytest.mark.parametrize(
    "url", ["http://localhost/x", "http://api.localhost/x", "http://10.0.0.5/x", "http://[::1]:9000/x"]
)
def test_obviously_internal_targets_are_refused_at_registration(url):
    with pytest.raises(InvalidTarget):
        refuse_private_literal(parse_target(url))


def test_a_public_name_passes_the_registration_check():
    refuse_private_literal(parse_target("https://hooks.example.com/x"))


def test_the_connection_goes_to_the_checked_address_under_the_original_name():
    url, headers, extensions = _pinned("https://hooks.example.com:8443/in?a=1", "2606:4700:4700::1111")
    assert str(url) == "https://[2606:4700:4700::1111]:8443/in?a=1"
    assert headers == {"host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
