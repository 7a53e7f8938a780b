"""Security headers on every response, HSTS in production, no Server banner, and a /healthz
that tells the public only whether the service is up."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from service.app import create_app
from tests.support.admin import PASSWORD
from tests.support.factories import sms_form
from tests.support.stack import HEALTH_TOKEN, health
from tests.support.twilio import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
EVERYWHERE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_secured(response, where: str) -> None:
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, (where, name, dict(response.headers))
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, (where, policy)
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where
    assert "microphone=()" in response.headers.get("Permissions-Policy", ""), where


def test_every_area_carries_the_security_headers(app, client, twilio_post):
    responses = {
        "healthz": client.get("/healthz"),
        "index": client.get("/"),
        "metrics (off)": client.get("/metrics"),
        "not found": client.get("/no-such-page"),
        "webhook, unsigned": client.post("/twilio/sms", data={"Body": "hi"}),
        "webhook, signed": twilio_post("/twilio/sms", sms_form("hello", sid="SM" + "1" * 32)),
        "voice webhook, unsigned": client.post("/twilio/voice", data={}),
        "admin sign-in": client.get("/admin/login"),
        "admin, anonymous": client.get("/admin/"),
        "admin static": client.get("/admin/static/admin/js/helpers.js"),
    }
    assert responses["webhook, signed"].status_code == 200
    assert responses["webhook, unsigned"].status_code == 403
    assert responses["admin static"].status_code == 200
    for where, response in responses.items():
        assert_secured(response, where)
    # Outside the admin nothing may load; the admin keeps its own policy (scripts by nonce).
    for where in ("healthz", "index", "webhook, signed", "not found"):
        assert "default-src 'none'" in responses[where].headers["Content-Security-Policy"]
    admin_policy = responses["admin sign-in"].headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in admin_policy
    assert "Strict-Transport-Security" not in responses["healthz"].headers  # not production


def production(settings, **more):
    return settings.model_copy(update={"env": "production", "twilio_console": True, **more})


def test_hsts_only_in_production_on_an_https_public_url(settings, db, redis_conn, gateway):
    def hsts(app_settings, path="/healthz"):
        app = create_app(app_settings, engine=db, redis=redis_conn, gateway=gateway)
        return app.test_client().get(path).headers.get("Strict-Transport-Security")

    assert settings.public_base_url.startswith("https://")
    secure = production(settings)
    assert hsts(secure) == "max-age=31536000; includeSubDomains"
    assert hsts(secure, "/admin/login") == "max-age=31536000; includeSubDomains"
    assert hsts(secure, "/no-such-page") is not None
    assert hsts(settings) is None  # development
    assert hsts(production(settings, public_base_url="http://realign.internal")) is None


def test_healthz_tells_the_public_only_whether_the_service_is_up(client):
    public = client.get("/healthz")
    assert public.status_code == 200 and public.get_json() == {"ok": True}
    assert public.headers["Cache-Control"] == "no-store"

    detailed = health(client)  # Authorization: Bearer HEALTH_TOKEN
    assert detailed.status_code == 200
    report = detailed.get_json()
    assert (report["ok"], report["database"], report["redis"]) == (True, "ok", "ok")
    assert "twilio" in report and "spooled" in report

    for wrong in ("Bearer nope", f"Basic {HEALTH_TOKEN}", "Bearer "):
        refused = client.get("/healthz", headers={"Authorization": wrong})
        assert refused.status_code == 401, wrong
        assert "database" not in refused.get_data(as_text=True)


def test_healthz_has_no_details_for_anyone_without_a_health_token(
    settings, db, redis_conn, gateway
):
    app = create_app(
        settings.model_copy(update={"health_token": ""}),
        engine=db,
        redis=redis_conn,
        gateway=gateway,
    )
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"ok": True}
    assert client.get("/healthz", headers={"Authorization": "Bearer "}).status_code == 401


def test_admins_signed_in_see_the_health_details(admin_app, world):
    client = admin_app.test_client()
    assert client.get("/admin/queues/health").status_code == 302  # anonymous: sign in

    def sign_in(email):
        token = TOKEN.search(client.get("/admin/login").text).group(1)
        data = {"email": email, "password": PASSWORD, "csrf_token": token}
        assert client.post("/admin/login", data=data).status_code == 302

    sign_in("ana@example.org")
    assert client.get("/admin/queues/health").status_code == 403  # a facilitator
    token = TOKEN.search(client.get("/admin/").text).group(1)
    client.post("/admin/logout", data={"csrf_token": token})
    sign_in("root@example.org")
    report = client.get("/admin/queues/health")
    assert report.status_code == 200
    assert (report.get_json()["database"], report.get_json()["redis"]) == ("ok", "ok")
    assert report.headers["Cache-Control"] == "no-store"


def procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            # Listen on loopback only: nothing outside this machine talks to the test.
            return line.removeprefix("web:").strip().replace("0.0.0.0", "127.0.0.1")
    raise AssertionError("no web process in the Procfile")


def fetch(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def test_the_procfile_web_process_sends_no_server_banner(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "REALIGN_ENV": "development",
        "REALIGN_INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # not needed for these pages
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = (tmp_path / "web.log").open("w")
    web = subprocess.Popen(
        ["sh", "-c", "exec " + procfile_web()],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers = fetch(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert web.poll() is None, (tmp_path / "web.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
                time.sleep(0.2)
        answers = {
            "/": (status, headers),
            "/no-such-page": fetch(f"http://127.0.0.1:{port}/no-such-page"),
            "/healthz": fetch(f"http://127.0.0.1:{port}/healthz"),  # 503: Redis is away
        }
        assert [a[0] for a in answers.values()] == [200, 404, 503]
        for path, (_, headers) in answers.items():
            assert headers.get("Server") is None, (path, headers.get_all("Server"))
            assert headers.get("X-Content-Type-Options") == "nosniff", path
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait()
        log.close()


@pytest.mark.parametrize("line", ["Procfile", "Procfile.dev"])
def test_both_procfiles_serve_with_the_gunicorn_configuration(line):
    web = next(text for text in (ROOT / line).read_text().splitlines() if text.startswith("web:"))
    assert "gunicorn -c gunicorn.conf.py " in web
