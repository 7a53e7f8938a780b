"""Inbox, waiting and not delivered: what came in, what waits for waking hours, what did not
arrive, each scoped to the facilitator's programs, and a real browser walk through them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.core.enums import Direction, MessageStatus
from service.models import AuditEvent, Message, Participant
from service.program.inbox import retry_key
from tests.support.admin_walk import login
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)


def _text(s, participant: Participant | None, body: str, at, **extra) -> int:
    inbound = extra.pop("direction", Direction.IN) == Direction.IN
    m = Message(
        direction=Direction.IN if inbound else Direction.OUT,
        program_id=participant.program_id if participant else None,
        participant_id=participant.id if participant else None,
        from_number=(participant.phone if participant else "+12015559999")
        if inbound
        else "+12015550100",
        to_number="+12015550100" if inbound else participant.phone,
        body=body,
        status=MessageStatus.PROCESSED if inbound else extra.pop("status"),
        created_at=at,
        updated_at=at,
        **extra,
    )
    s.add(m)
    s.flush()
    return m.id


@pytest.fixture
def texts(admin_app, world, admin_clock):
    """Ana sees her participant's and the shared program's texts; Ben's are his alone."""
    services = admin_app.extensions["realign"]
    now = admin_clock()
    with services.sessions() as s:
        ari = s.get(Participant, world.ana_participant)
        bo = s.get(Participant, world.ben_participant)
        cy = s.get(Participant, world.shared_participant)
        ari.timezone = "America/New_York"
        ids = {
            "ari": _text(s, ari, "I kept it today, " + "and more words " * 12, now),
            "cy": _text(s, cy, "Can we talk tomorrow?", now - timedelta(hours=1)),
            "bo": _text(s, bo, "BEN-SECRET reply", now),
            "stranger": _text(s, None, "Who is this?", now),
            "waiting": _text(
                s, ari, "Your check-in is ready.", now, direction=Direction.OUT,
                status=MessageStatus.PENDING, send_after=now + timedelta(hours=10),
            ),
            "failed": _text(
                s, cy, "Thank you for sharing that.", now, direction=Direction.OUT,
                status=MessageStatus.UNDELIVERED, error_code=30003,
            ),
            "stopped": _text(
                s, ari, "Welcome back.", now, direction=Direction.OUT,
                status=MessageStatus.FAILED, error_code=21610,
            ),
            "ben_failed": _text(
                s, bo, "BEN-SECRET text", now, direction=Direction.OUT,
                status=MessageStatus.UNDELIVERED, error_code=30003,
            ),
        }  # fmt: skip
        s.commit()
    return ids


def _token(page: str) -> str:
    from tests.support.admin_walk import TOKEN

    return TOKEN.search(page).group(1)


def test_the_inbox_shows_unread_texts_of_my_programs_and_marks_them_read(admin_app, texts):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/inbox/").text
    assert "Can we talk tomorrow?" in page and "I kept it today" in page
    assert "BEN-SECRET" not in page and "Who is this?" not in page
    assert '<span class="badge badge-pill badge-warning" id="unread-count">2</span>' in page
    assert "today" in page and "their time" in page
    assert re.search(r">[^<]*UTC[^<]*<", page) is None  # UTC only in tooltips
    # Marking Ben's text read from Ana's session changes nothing of his.
    token = _token(page)
    client.post("/admin/inbox/read", data={"message_id": [texts["bo"]], "csrf_token": token})
    done = client.post(
        "/admin/inbox/read",
        data={"message_id": [texts["cy"]], "csrf_token": token},
        follow_redirects=True,
    ).text
    assert "Marked 1 text read." in done
    assert "Can we talk tomorrow?" not in done and "I kept it today" in done
    assert 'id="unread-count">1</span>' in done
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        assert s.get(Message, texts["bo"]).seen_at is None
        assert s.get(Message, texts["cy"]).seen_by_id is not None
    # The admin sees every unread text, a stranger's included.
    boss = admin_app.test_client()
    login(boss, "root@example.org")
    page = boss.get("/admin/inbox/").text
    assert "Who is this?" in page and "BEN-SECRET reply" in page


def test_waiting_texts_say_when_they_leave_in_the_persons_time(admin_app, texts):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/inbox/waiting").text
    assert "Your check-in is ready." in page
    assert "Leaves " in page and ", their time" in page


def test_a_text_that_did_not_arrive_says_why_and_is_sent_again_once(admin_app, texts):
    services = admin_app.extensions["realign"]
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/inbox/failed").text
    assert "their phone was off or out of reach" in page
    assert "they replied STOP to this number" in page
    assert "BEN-SECRET" not in page
    assert page.count("Send again") == 1  # not for the number that replied STOP
    token = _token(page)
    url = f"/admin/inbox/failed/{texts['failed']}/retry"
    first = client.post(url, data={"csrf_token": token}, follow_redirects=True).text
    assert "being sent again" in first or "sent again when" in first
    again = client.post(url, data={"csrf_token": token}, follow_redirects=True).text
    assert "It was sent again already." in again
    with services.sessions() as s:
        copies = s.scalars(
            sa.select(Message).where(Message.idempotency_key == retry_key(texts["failed"]))
        ).all()
        assert [m.body for m in copies] == ["Thank you for sharing that."]
        actors = s.scalars(sa.select(AuditEvent.actor).where(AuditEvent.action == "retry_text"))
        assert list(actors) == [f"facilitator:{_ana_id(s)}"]
    # Sent again, it leaves the list; Ben's failed text is not Ana's to send.
    assert "Thank you for sharing that." not in client.get("/admin/inbox/failed").text
    other = f"/admin/inbox/failed/{texts['ben_failed']}/retry"
    assert client.post(other, data={"csrf_token": token}).status_code == 404
    assert (
        client.post("/admin/inbox/failed/99999999999/retry", data={"csrf_token": token}).status_code
        == 404
    )


def _ana_id(s) -> int:
    from service.models import Facilitator

    return s.scalar(sa.select(Facilitator.id).where(Facilitator.email == "ana@example.org"))


@pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")
def test_a_coach_reads_the_inbox_and_sends_a_text_again_in_a_browser(admin_app, texts):
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        assert page.locator("nav #unread-count").inner_text() == "2"
        page.click("nav >> text=Inbox")
        page.wait_for_url(f"{base}/admin/inbox/")
        item = page.locator(".inbox-item", has_text="Can we talk tomorrow?")
        assert "their time" in item.inner_text()
        long = page.locator(".inbox-item", has_text="I kept it today")
        long.locator("summary").click()
        assert long.locator(".full-text").is_visible()
        screenshot(page, "inbox")
        item.locator(".mark-read").click()
        page.wait_for_selector("text=Marked 1 text read.")
        assert page.locator("nav #unread-count").inner_text() == "1"
        page.click("#inbox-tabs >> text=Not delivered")
        failed = page.locator(".failed-item", has_text="Thank you for sharing that.")
        assert "their phone was off or out of reach" in failed.inner_text()
        screenshot(page, "inbox-failed")
        failed.locator(".send-again").click()
        page.wait_for_selector(".alert-success")
        assert page.locator(".failed-item", has_text="Thank you for sharing that.").count() == 0
        page.set_viewport_size({"width": 390, "height": 844})
        page.click("#inbox-tabs >> text=Waiting to leave")
        assert "Leaves " in page.locator(".waiting-item").first.inner_text()
        screenshot(page, "inbox-waiting-phone")
        assert log.csp_violations() == [] and log.errors == []


def test_a_test_personas_texts_are_not_in_the_inbox_and_the_badge_stops_at_99(
    admin_app, world, admin_clock
):
    services = admin_app.extensions["realign"]
    now = admin_clock()
    with services.sessions() as s:
        cy = s.get(Participant, world.shared_participant)
        s.add(_message(cy, "Persona says hi", now, simulated=True))
        s.commit()
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/inbox/").text
    assert "Persona says hi" not in page and 'id="unread-count"' not in page
    with services.sessions() as s:
        cy = s.get(Participant, world.shared_participant)
        s.add_all(_message(cy, f"Text {i}", now) for i in range(120))
        s.commit()
    page = client.get("/admin/inbox/").text
    assert 'id="unread-count">99+</span>' in page
    assert "Text 119" in page  # the list itself shows the newest hundred


def _message(participant, body, at, **extra) -> Message:
    return Message(
        direction=Direction.IN, program_id=participant.program_id,
        participant_id=participant.id, from_number=participant.phone,
        to_number="+12015550100", body=body, status=MessageStatus.PROCESSED,
        created_at=at, updated_at=at, **extra,
    )  # fmt: skip
