"""The cross-site check on the admin's state-changing requests."""

from __future__ import annotations

import pytest

from service.core.origins import is_cross_site, origin_of

OWN = ("http://localhost", "https://realign.example.org")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Realign.Example.org/admin/", "https://realign.example.org"),
        ("https://realign.example.org:443", "https://realign.example.org"),
        ("http://127.0.0.1:5000/x", "http://127.0.0.1:5000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("null", None),
        ("ftp://example.org", None),
        ("http://host:notaport", None),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    ("fetch_site", "origin", "cross"),
    [
        (None, None, False),  # neither header: the CSRF token decides
        ("same-origin", None, False),
        ("none", None, False),
        ("cross-site", None, True),
        ("same-site", None, True),  # a sibling subdomain is not us
        ("Cross-Site", "http://localhost", True),
        (None, "http://localhost", False),
        (None, "https://realign.example.org", False),  # the configured public URL
        (None, "http://realign.example.org", True),  # another scheme is another origin
        (None, "https://evil.example", True),
        (None, "https://realign.example.org.evil.example", True),
        (None, "null", True),
        ("same-origin", "https://evil.example", True),
    ],
)
def test_is_cross_site(fetch_site, origin, cross):
    assert is_cross_site(fetch_site, origin, OWN) is cross
