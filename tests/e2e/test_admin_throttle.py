"""Sign-in throttling: per account whatever the address, per client address whatever the
account, counted in Redis before the password is checked; and which address is the client's
(X-Forwarded-For only through TRUSTED_PROXIES)."""

from __future__ import annotations

import re
import threading

import pytest
import requests
import sqlalchemy as sa
from argon2 import PasswordHasher

from admin.throttle import ACCOUNT_LIMIT, ADDRESS_LIMIT
from service.config import load_settings
from service.models import AuditEvent
from service.program import accounts
from tests.support.admin import PASSWORD
from tests.support.browser import serve

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WRONG = "not the password"


def login(client, email, password=PASSWORD, **kwargs):
    page = client.get("/admin/login", **kwargs)
    token = TOKEN.search(page.text).group(1)
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/admin/login", data=data, **kwargs)


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def forwarded(chain: str) -> dict:
    return {"headers": {"X-Forwarded-For": chain}}


def addresses(app, action) -> list[str]:
    with app.extensions["realign"].sessions() as s:
        rows = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))
        return [row.detail.get("address") for row in rows]


class CountingHasher(PasswordHasher):
    """argon2, counting its verifies; each takes 50 ms, as a real one about does."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verifies = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):
        with self._lock:
            self.verifies += 1
        threading.Event().wait(0.05)
        return super().verify(hash, password)


def test_twenty_concurrent_wrong_sign_ins_verify_at_most_five_passwords(
    admin_app, world, monkeypatch
):
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "hasher", hasher)
    start = threading.Barrier(20)
    answers = []

    def guess(base):
        with requests.Session() as browser:
            page = browser.get(f"{base}/admin/login", timeout=30)
            data = {
                "email": "ana@example.org",
                "password": WRONG,
                "csrf_token": TOKEN.search(page.text).group(1),
            }
            start.wait(timeout=30)
            answers.append(browser.post(f"{base}/admin/login", data=data, timeout=60))

    with serve(admin_app) as base:
        threads = [threading.Thread(target=guess, args=(base,)) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

    codes = sorted(a.status_code for a in answers)
    assert len(codes) == 20
    assert hasher.verifies <= ACCOUNT_LIMIT, (hasher.verifies, codes)
    assert codes.count(200) == hasher.verifies  # each verified try: "do not match"
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 20 - hasher.verifies
    assert all("Too many tries; wait 15 minutes" in a.text for a in refused)
    assert all(0 < int(a.headers["Retry-After"]) <= 15 * 60 for a in refused)


def test_an_account_is_throttled_whatever_the_address(admin_app, world):
    for n in range(ACCOUNT_LIMIT):
        client = admin_app.test_client()
        wrong = login(client, "ana@example.org", WRONG, **from_address(f"10.0.0.{n + 1}"))
        assert wrong.status_code == 200 and "do not match" in wrong.text
    client = admin_app.test_client()
    refused = login(client, "ANA@example.org ", **from_address("10.0.1.1"))  # right password
    assert refused.status_code == 429
    assert "Too many tries; wait 15 minutes" in refused.text
    assert client.get("/admin/").status_code == 302  # not signed in
    assert addresses(admin_app, "admin.login_refused") == ["10.0.1.1"]  # audited once
    login(client, "ana@example.org", **from_address("10.0.1.2"))
    assert len(addresses(admin_app, "admin.login_refused")) == 1
    # Other facilitators sign in as before, from those same addresses.
    ben = login(admin_app.test_client(), "ben@example.org", **from_address("10.0.0.1"))
    assert ben.status_code == 302


def test_an_address_is_throttled_whatever_the_account(admin_app, world):
    client = admin_app.test_client()
    for n in range(ADDRESS_LIMIT):
        assert login(client, f"guess{n}@example.org", WRONG).status_code == 200
    refused = login(client, "ana@example.org")  # the right password, from that address
    assert refused.status_code == 429 and "Too many tries" in refused.text
    # The same account from another address is not held up.
    elsewhere = login(admin_app.test_client(), "ana@example.org", **from_address("10.0.0.9"))
    assert elsewhere.status_code == 302


def test_rotating_x_forwarded_for_gains_nothing_without_trusted_proxies(admin_app, world):
    """TRUSTED_PROXIES=0 (the default): the header is anyone's to write, so it is ignored."""
    client = admin_app.test_client()
    for n in range(ADDRESS_LIMIT):
        wrong = login(client, f"guess{n}@example.org", WRONG, **forwarded(f"198.51.100.{n + 1}"))
        assert wrong.status_code == 200
    refused = login(client, "ana@example.org", **forwarded("203.0.113.77"))
    assert refused.status_code == 429
    assert set(addresses(admin_app, "admin.login_failed")) == {"127.0.0.1"}


@pytest.fixture
def proxied_app(admin_app, admin_db, admin_redis, admin_redis_url, admin_clock, tmp_path):
    """The app as deployed behind one proxy (TRUSTED_PROXIES=1, e.g. Heroku's router)."""
    from service.app import create_app

    settings = load_settings(
        database_url=str(admin_db.url.render_as_string(hide_password=False)),
        redis_url=admin_redis_url,
        secret_key="test",
        instance_dir=tmp_path,
        public_base_url="http://localhost",
        trusted_proxies=1,
    )
    app = create_app(settings, engine=admin_db, redis=admin_redis, clock=admin_clock)
    app.config["TESTING"] = True
    return app


def test_behind_one_trusted_proxy_the_last_hop_is_the_client(proxied_app, world):
    client = proxied_app.test_client()
    # The proxy appends the address it saw; anything before it is the client's own claim.
    for n in range(ADDRESS_LIMIT):
        chain = f"10.9.9.{n + 1}, 198.51.100.7"
        assert login(client, f"guess{n}@example.org", WRONG, **forwarded(chain)).status_code == 200
    assert set(addresses(proxied_app, "admin.login_failed")) == {"198.51.100.7"}
    refused = login(client, "ana@example.org", **forwarded("10.9.9.99, 198.51.100.7"))
    assert refused.status_code == 429
    # Another client behind the same proxy is another address.
    other = proxied_app.test_client()
    assert login(other, "ana@example.org", **forwarded("198.51.100.8")).status_code == 302
