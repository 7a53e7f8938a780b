"""Where a sign-in may send the browser afterwards."""

from __future__ import annotations

import pytest

from service.core.redirects import local_target


@pytest.mark.parametrize(
    "target", ["/admin", "/admin/", "/admin/participants/?page=2", "/admin?x=1", "/admin/é"]
)
def test_a_path_in_the_admin_is_kept(target):
    assert local_target(target, "/admin") == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "/admin/\r\nSet-Cookie: x=1",
        "/admin/\n",
        "/admin\t//evil.example",
        "/admin/\x00",
        "/admin/\x7f",
        "/admin/\u2028",
        "//evil.example/admin",
        "https://evil.example/admin",
        "/admin\\@evil.example",
        "/administrator",
        "/twilio/sms",
        "/admin/" + "x" * 3000,
    ],
)
def test_anything_else_is_refused(target):
    assert local_target(target, "/admin") is None
