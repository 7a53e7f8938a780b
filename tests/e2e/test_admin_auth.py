"""The admin's access rules, through Flask's test client against a real database and Redis."""

from __future__ import annotations

import re

import pytest
import redis
import sqlalchemy as sa
from argon2 import PasswordHasher
from redis.backoff import NoBackoff
from redis.retry import Retry

from admin.base import via_participant
from service.models import AuditEvent, Facilitator, Participant, Program, Statement
from service.program import accounts
from tests.support.admin import PASSWORD, as_shown
from tests.support.admin_forms import program_form

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def csrf(client, path="/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return TOKEN.search(page.text).group(1)


def login(client, email, password=PASSWORD, **kwargs):
    data = {"email": email, "password": password, "csrf_token": csrf(client)}
    return client.post("/admin/login", data=data, **kwargs)


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def events(app, action=None) -> list[AuditEvent]:
    with app.extensions["realign"].sessions() as s:
        stmt = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(s.scalars(stmt))


def get_row(app, model, id_):
    with app.extensions["realign"].sessions() as s:
        return s.get(model, id_)


# Anonymous visitors ----------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_every_admin_url(admin_app, client, world):
    token = csrf(client)
    checked = 0
    for rule in admin_app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in ("admin.static", "admin.login"):
            continue
        url = rule.rule.replace("<export_type>", "csv") + "?id=1"
        if "GET" in rule.methods:
            response = client.get(url)
        else:  # POST-only: even with a valid CSRF token
            response = client.post(url, data={"csrf_token": token, "id": "1"})
        assert response.status_code == 302, (url, response.status_code)
        assert response.headers["Location"].startswith("/admin/login"), url
        checked += 1
    assert checked > 30
    assert client.get("/admin/no-such-page").headers["Location"].startswith("/admin/login")
    with client.get("/admin/static/admin/js/helpers.js") as static:
        assert static.status_code == 200


def test_login_page_carries_security_headers(client):
    response = client.get("/admin/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    other = client.get("/admin/login").headers["Content-Security-Policy"]
    assert nonce not in other  # one nonce per response


# Signing in ------------------------------------------------------------------------------


def test_right_password_signs_in_records_and_follows_next(admin_app, client, world):
    response = login(client, "ANA@example.org ", query_string={"next": "/admin/programs/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/programs/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert signed_in(client)
    assert get_row(admin_app, Facilitator, world.ana).last_login_at is not None
    [event] = events(admin_app, "admin.login")
    assert event.actor == f"facilitator:{world.ana}"
    assert PASSWORD not in str(event.detail)


def test_next_outside_the_admin_is_ignored(client, world):
    response = login(client, "ana@example.org", query_string={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/admin/"


def test_wrong_password_fails_and_is_audited(admin_app, client, world):
    response = login(client, "ana@example.org", "wrong password!")
    assert response.status_code == 200
    assert "do not match" in response.text
    assert not signed_in(client)
    [event] = events(admin_app, "admin.login_failed")
    assert event.actor == "anonymous"
    assert event.detail["email"] == "ana@example.org"
    assert "wrong password" not in str(event.detail)


def test_unknown_and_inactive_facilitators_cannot_sign_in(admin_app, client, world):
    assert "do not match" in login(client, "nobody@example.org").text
    with admin_app.extensions["realign"].sessions() as s:
        s.get(Facilitator, world.ben).is_active = False
        s.commit()
    assert "do not match" in login(client, "ben@example.org").text
    assert not signed_in(client)


def test_sixth_try_is_refused_even_with_the_right_password(admin_app, client, admin_redis, world):
    for _ in range(5):
        assert login(client, "ana@example.org", "not the password").status_code == 200
    refused = login(client, "ana@example.org")
    assert refused.status_code == 429
    assert "Too many tries; wait 15 minutes." in refused.text
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert login(client, "ana@example.org").status_code == 429
    assert not signed_in(client)
    [key] = admin_redis.keys("realign:admin:signin:account:*")
    assert 14 * 60 < admin_redis.ttl(key) <= 15 * 60
    assert len(events(admin_app, "admin.login_refused")) == 1  # audited once per window
    # Another email is not affected, from this address or another.
    assert login(admin_app.test_client(), "ben@example.org").status_code == 302
    # When the window is over, the right password works again.
    admin_redis.delete(key)
    assert login(client, "ana@example.org").status_code == 302


def test_a_right_password_starts_the_accounts_count_again(admin_app, client, world):
    for _ in range(4):
        login(client, "ana@example.org", "not the password")
    assert login(client, "ana@example.org").status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    for _ in range(4):
        assert login(client, "ana@example.org", "not the password").status_code == 200
    assert login(client, "ana@example.org").status_code == 302


def test_sign_in_still_works_when_redis_is_down(admin_app, client, world, tmp_path):
    index = admin_app.extensions["realign_admin"].index_view
    index.throttle.redis = redis.Redis(
        unix_socket_path=str(tmp_path / "nothing.sock"), retry=Retry(NoBackoff(), 0)
    )
    assert login(client, "ana@example.org", "not the password").status_code == 200
    assert login(client, "ana@example.org").status_code == 302


def test_login_post_without_csrf_token_is_rejected(client, world):
    client.get("/admin/login")
    response = client.post("/admin/login", data={"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


def test_password_hash_is_upgraded_when_parameters_change(admin_app, client, world, monkeypatch):
    old = get_row(admin_app, Facilitator, world.ana).password_hash
    monkeypatch.setattr(
        accounts, "hasher", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    )
    assert login(client, "ana@example.org").status_code == 302
    new = get_row(admin_app, Facilitator, world.ana).password_hash
    assert new != old and "m=2048,t=2" in new
    assert signed_in(client)  # the session follows the new hash


# Signing out -------------------------------------------------------------------------------


def test_logout_needs_post_with_csrf(admin_app, client, world):
    login(client, "ana@example.org")
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 400
    assert signed_in(client)
    token = csrf(client, "/admin/")
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert not signed_in(client)
    [event] = events(admin_app, "admin.logout")
    assert event.actor == f"facilitator:{world.ana}" and event.detail["reason"] == "user"


def _copy_of_session(admin_app, client):
    """Another browser holding a copy of `client`'s session cookie (taken before sign-out)."""
    name = admin_app.config["SESSION_COOKIE_NAME"]
    other = admin_app.test_client()
    other.set_cookie(name, client.get_cookie(name).value)
    return other


def test_signing_out_ends_the_session_on_the_server(admin_app, client, world):
    login(client, "ana@example.org")
    copy = _copy_of_session(admin_app, client)
    assert signed_in(copy)  # the copy works while the session lives

    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    response = copy.get("/admin/programs/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    assert not signed_in(copy)
    [event] = events(admin_app, "admin.session_refused")
    assert event.actor == f"facilitator:{world.ana}"

    # Signing in again is a new session, which the old sign-out does not touch.
    login(client, "ana@example.org")
    assert signed_in(client)


def test_a_session_lasts_twelve_hours_however_active(admin_app, admin_clock, client, world):
    login(client, "ana@example.org")
    for _ in range(12 * 3):  # busy all day: a request every 20 minutes
        admin_clock.advance(minutes=20)
        assert signed_in(client)
    admin_clock.advance(minutes=20)
    response = client.get("/admin/programs/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    assert "at most 12 hours" in client.get("/admin/login").text
    [event] = events(admin_app, "admin.logout")
    assert event.detail["reason"] == "lifetime"


def test_idle_session_is_signed_out(admin_app, admin_clock, client, world):
    login(client, "ana@example.org")
    admin_clock.advance(minutes=29)
    assert signed_in(client)  # activity restarts the 30 minutes
    admin_clock.advance(minutes=29)
    assert signed_in(client)
    admin_clock.advance(minutes=31)
    response = client.get("/admin/programs/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    assert "without activity" in client.get("/admin/login").text
    [event] = events(admin_app, "admin.logout")
    assert event.detail["reason"] == "idle"


def test_background_requests_do_not_overwrite_a_flash_message(
    admin_app, admin_clock, client, world
):
    """A page's background request (the import's progress poll) that started before another
    request flashed a message must not answer with an older session cookie that drops it:
    activity is written to the cookie at most once a minute."""
    login(client, "ana@example.org")
    assert signed_in(client)
    admin_clock.advance(seconds=20)
    poll = client.get("/admin/programs/")
    assert poll.status_code == 200 and "Set-Cookie" not in poll.headers
    admin_clock.advance(minutes=2)
    assert "Set-Cookie" in client.get("/admin/programs/").headers  # activity still counts


def test_idle_minutes_are_configurable(admin_app, admin_clock, client, world):
    admin_app.config["ADMIN_IDLE_MINUTES"] = 5
    login(client, "ana@example.org")
    admin_clock.advance(minutes=6)
    assert not signed_in(client)


def test_deactivation_and_password_change_end_sessions(admin_app, client, world):
    login(client, "ana@example.org")
    with admin_app.extensions["realign"].sessions() as s:
        accounts.set_password(s.get(Facilitator, world.ana), "a brand new password")
        s.commit()
    assert not signed_in(client)
    login(client, "ana@example.org", "a brand new password")
    assert signed_in(client)
    with admin_app.extensions["realign"].sessions() as s:
        s.get(Facilitator, world.ana).is_active = False
        s.commit()
    assert not signed_in(client)


# Row scoping -------------------------------------------------------------------------------


def test_facilitator_lists_show_only_their_programs_and_participants(client, world):
    login(client, "ana@example.org")
    response = client.get("/admin/programs/")
    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    programs = response.text
    assert "Ana&#39;s program" in programs and "Shared program" in programs
    assert "Ben&#39;s program" not in programs
    people = client.get("/admin/participants/").text
    assert "Ari Ana-side" in people and "Cy Shared" in people
    assert "Bo Ben-side" not in people
    dashboard = client.get("/admin/").text
    assert "Today" in dashboard and "Shared program" in dashboard
    assert "Ben&#39;s program" not in dashboard


def test_other_facilitators_records_are_404_by_id(admin_app, client, world):
    login(client, "ana@example.org")
    for url in (
        f"/admin/programs/details/?id={world.ben_program}",
        f"/admin/programs/edit/?id={world.ben_program}",
        f"/admin/participants/details/?id={world.ben_participant}",
        f"/admin/participants/edit/?id={world.ben_participant}",
        "/admin/programs/details/?id=999999",
        "/admin/programs/details/?id=not-a-number",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf(client, f"/admin/programs/edit/?id={world.ana_program}")
    response = client.post(
        f"/admin/programs/edit/?id={world.ben_program}",
        data={"csrf_token": token, "name": "Taken over"},
    )
    assert response.status_code == 404
    assert get_row(admin_app, Program, world.ben_program).name == "Ben's program"
    # Their own and shared records open.
    assert client.get(f"/admin/programs/details/?id={world.shared_program}").status_code == 200
    assert client.get(f"/admin/participants/edit/?id={world.ana_participant}").status_code == 200


def test_admin_sees_everything(client, world):
    login(client, "root@example.org")
    programs = client.get("/admin/programs/").text
    for name in ("Ana&#39;s program", "Ben&#39;s program", "Shared program"):
        assert name in programs
    assert client.get(f"/admin/participants/details/?id={world.ben_participant}").status_code == 200
    assert client.get("/admin/facilitators/").status_code == 200
    assert "Signed in" in client.get("/admin/audit/").text


def test_facilitators_and_audit_log_are_for_admins_only(client, world):
    login(client, "ana@example.org")
    assert client.get("/admin/facilitators/").status_code == 403
    assert client.get(f"/admin/facilitators/edit/?id={world.ana}").status_code == 403
    assert client.get("/admin/audit/").status_code == 403
    menu = client.get("/admin/").text
    assert "/admin/facilitators/" not in menu and "/admin/audit/" not in menu


def test_filters_work_on_string_and_utc_datetime_columns(admin_app, client, world):
    login(client, "root@example.org")
    audit_view = next(
        v for v in admin_app.extensions["realign_admin"]._views if v.endpoint == "audit"
    )
    index = {(f.column.key, type(f).__name__): i for i, f in enumerate(audit_view._filters)}
    after = index[("at", "UTCDateTimeGreaterFilter")]
    actor = index[("actor", "FilterLike")]
    page = client.get(f"/admin/audit/?flt0_{after}=2000-01-01+00:00:00&flt1_{actor}=facilitator")
    assert page.status_code == 200 and "Signed in" in page.text
    page = client.get(f"/admin/audit/?flt0_{after}=2999-01-01+00:00:00")
    assert page.status_code == 200 and "Signed in" not in page.text


# Forms ---------------------------------------------------------------------------------------


def test_model_post_without_csrf_token_is_rejected(admin_app, client, world):
    login(client, "ana@example.org")
    url = f"/admin/programs/edit/?id={world.ana_program}"
    assert client.post(url, data={"name": "Renamed"}).status_code == 400
    assert get_row(admin_app, Program, world.ana_program).name == "Ana's program"
    data = program_form(name="Renamed", csrf_token=csrf(client, url))
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert get_row(admin_app, Program, world.ana_program).name == "Renamed"
    [event] = events(admin_app, "program.update")
    assert "name" in event.detail["fields"] and event.entity_id == world.ana_program


def test_participant_text_is_escaped_and_phone_masked(admin_app, client, world):
    with admin_app.extensions["realign"].sessions() as s:
        s.get(Participant, world.ana_participant).name = "<script>alert(1)</script>"
        s.commit()
    login(client, "ana@example.org")
    page = client.get("/admin/participants/").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "+12015550111" not in page and "(•••) •••-••11" in page
    details = client.get(f"/admin/participants/details/?id={world.ana_participant}").text
    assert "<script>alert(1)</script>" not in details  # the compose box's "Text <name>" too
    # The full number only behind Call and Copy number, never shown as text.
    shown = as_shown(details, "+12015550111")
    assert "+12015550111" not in shown


def test_admin_creates_and_edits_facilitators(admin_app, client, world):
    login(client, "root@example.org")
    url = "/admin/facilitators/new/"
    form = {"email": "New@Example.org", "name": "Nia New", "role": "facilitator", "is_active": "y"}
    short = client.post(url, data={**form, "password": "short", "csrf_token": csrf(client, url)})
    assert "at least 12 characters" in short.text
    common = client.post(
        url, data={**form, "password": "leavemealone", "csrf_token": csrf(client, url)}
    )
    assert "most common" in common.text
    ok = client.post(
        url, data={**form, "password": "long enough pw", "csrf_token": csrf(client, url)}
    )
    assert ok.status_code == 302
    dup = client.post(
        url, data={**form, "password": "long enough pw", "csrf_token": csrf(client, url)}
    )
    assert "already exists" in dup.text
    with admin_app.extensions["realign"].sessions() as s:
        nia = accounts.find_by_email(s, "new@example.org")
        assert nia.password_hash.startswith("$argon2")
    assert login(admin_app.test_client(), "new@example.org", "long enough pw").status_code == 302
    edit = f"/admin/facilitators/edit/?id={world.admin}"
    selfdemote = client.post(
        edit, data={"name": "Ada", "role": "facilitator", "csrf_token": csrf(client, edit)}
    )
    assert "cannot remove your own admin role" in selfdemote.text
    assert get_row(admin_app, Facilitator, world.admin).role == "admin"
    assert [e.action for e in events(admin_app) if e.action.startswith("facilitator.")] == [
        "facilitator.create"
    ]


# The domain functions -------------------------------------------------------------------------


def test_create_facilitator_validates(admin_app, world):
    with admin_app.extensions["realign"].sessions() as s:
        with pytest.raises(ValueError, match="valid email"):
            accounts.create_facilitator(s, "not-an-email", "X", PASSWORD)
        with pytest.raises(ValueError, match="at least 12"):
            accounts.create_facilitator(s, "x@example.org", "X", "12345678901")
        with pytest.raises(ValueError, match="most common"):
            accounts.create_facilitator(s, "x@example.org", "X", "1qaz2wsx3edc")
        with pytest.raises(ValueError, match="already exists"):
            accounts.create_facilitator(s, "Ana@Example.org", "X", PASSWORD)
        with pytest.raises(ValueError, match="role"):
            accounts.create_facilitator(s, "x@example.org", "X", PASSWORD, role="owner")


def test_visible_program_ids(admin_app, world):
    with admin_app.extensions["realign"].sessions() as s:
        assert accounts.visible_program_ids(s, s.get(Facilitator, world.ana)) == {
            world.ana_program,
            world.shared_program,
        }
        assert accounts.visible_program_ids(s, s.get(Facilitator, world.ben)) == {
            world.ben_program,
            world.shared_program,
        }
        assert accounts.visible_program_ids(s, s.get(Facilitator, world.admin)) is None


def test_via_participant_scopes_models_that_hang_off_a_participant(admin_app, world):
    with admin_app.extensions["realign"].sessions() as s:
        mine = Statement(participant_id=world.ana_participant, step=1, kind="facts", body="x")
        theirs = Statement(participant_id=world.ben_participant, step=1, kind="facts", body="y")
        s.add_all([mine, theirs])
        s.commit()
        clause = via_participant(Statement.participant_id, {world.ana_program})
        assert list(s.scalars(sa.select(Statement.id).where(clause))) == [mine.id]
