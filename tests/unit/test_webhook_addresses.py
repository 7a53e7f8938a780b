"""Where an event webhook may be sent: https only, and in production only to addresses on
the public internet, whether written as an IP or reached through a name."""

from __future__ import annotations

import pytest

from service.core.webhook_addresses import Target, check, is_public


def resolver(table):
    def resolve(host, port):
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return resolve


NAMES = resolver(
    {
        "crm.example.org": ["93.184.216.34"],
        "inside.example.org": ["10.1.2.3"],
        "mixed.example.org": ["93.184.216.34", "192.168.0.9"],
        "v6.example.org": ["2606:4700::6810:85e5"],
        "mapped.example.org": ["::ffff:127.0.0.1"],
        "empty.example.org": [],
    }
)


def prod(url):
    return check(url, production=True, allow_local=False, resolve=NAMES)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "0.0.0.0",
        "224.0.0.1", "240.0.0.1", "255.255.255.255", "100.64.0.1", "::1", "fe80::1", "fc00::1",
        "ff02::1", "::", "::ffff:10.0.0.1", "fe80::1%eth0",
    ],
)  # fmt: skip
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::6810:85e5"])
def test_internet_addresses_are_public(address):
    assert is_public(address)


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook", "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook", "https://127.0.0.1:8443/x", "https://[::ffff:192.168.0.1]/x",
    ],
)  # fmt: skip
def test_in_production_an_ip_literal_off_the_internet_is_refused(url):
    target, why = prod(url)
    assert target is None and "not on the public internet" in why


@pytest.mark.parametrize(
    "url", ["https://inside.example.org/hook", "https://mixed.example.org/hook",
            "https://mapped.example.org/x", "https://localhost/hook"],
)  # fmt: skip
def test_in_production_a_name_that_resolves_off_the_internet_is_refused(url):
    table = {"localhost": ["127.0.0.1"]}
    target, why = check(
        url,
        production=True,
        allow_local=False,
        resolve=lambda h, p: table[h] if h in table else NAMES(h, p),
    )
    assert target is None and "points at" in why and "not on the public internet" in why


def test_a_name_that_cannot_be_found_is_refused_in_words():
    for url in ("https://nowhere.example.org/x", "https://empty.example.org/x"):
        target, why = prod(url)
        assert target is None and why == f"The receiver's host {url[8:-2]} cannot be found."


def test_a_public_receiver_is_pinned_to_the_address_that_was_checked():
    assert prod("https://crm.example.org/hook?x=1") == (
        Target("https", "crm.example.org", 443, "93.184.216.34"),
        None,
    )
    assert prod("https://v6.example.org:8443/") == (
        Target("https", "v6.example.org", 8443, "2606:4700::6810:85e5"),
        None,
    )
    assert prod("https://93.184.216.34/x")[0].address == "93.184.216.34"


def test_the_resolver_is_asked_only_in_production():
    def refuse(host, port):
        raise AssertionError("not asked outside production")

    target, why = check(
        "https://inside.example.org/x", production=False, allow_local=False, resolve=refuse
    )
    assert why is None and target == Target("https", "inside.example.org", 443)


def test_plain_http_only_to_this_machine_and_never_in_production():
    dev = dict(production=False, allow_local=True, resolve=NAMES)
    assert check("http://127.0.0.1:8080/x", **dev)[1] is None
    assert check("http://localhost/x", **dev)[0] == Target("http", "localhost", 80)
    for url in ("http://crm.example.org/x", "http://10.0.0.5/x"):
        assert "https://" in check(url, **dev)[1]
    assert "https://" in check("http://127.0.0.1:8080/x", production=True, allow_local=True,
                               resolve=NAMES)[1]  # fmt: skip


@pytest.mark.parametrize(
    "url", ["", "ftp://x", "https://", "https://crm.example.org:port/x",
            "https://crm.example.org/" + "x" * 500],
)  # fmt: skip
def test_a_malformed_address_is_refused(url):
    target, why = prod(url)
    assert target is None and "https://" in why
