"""The compose box on a participant's page: a coach texts someone back through the outbox
(to the local Twilio API here), in their waking hours, once per form, with the reason when
they may not be texted; and Call / Copy number beside it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from service.core.compose_rules import FACILITATOR_TEXT
from service.core.enums import Direction, ParticipantStatus
from service.messaging import delivery
from service.models import AuditEvent, Message, Participant
from tests.support.admin_walk import TOKEN, login
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN


@pytest.fixture
def admin_settings(local_twilio):
    return {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_base_url": local_twilio.base_url,
        "twilio_from_number": "+12015550100",
    }


def _page(client, pid: int):
    return client.get(f"/admin/participants/details/?id={pid}")


def _form(page: str) -> dict:
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', page).group(1)
    return {"csrf_token": TOKEN.search(page).group(1), "nonce": nonce}


def _written(services, pid: int) -> list[Message]:
    with services.sessions() as s:
        return s.scalars(
            sa.select(Message).where(
                Message.participant_id == pid, Message.template == FACILITATOR_TEXT
            )
        ).all()


DAYTIME = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # inside Cy's waking hours (UTC)


def test_a_coach_texts_someone_back_once_and_it_reaches_twilio(
    admin_app, world, local_twilio, admin_clock
):
    services = admin_app.extensions["realign"]
    admin_clock.set(DAYTIME)
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = _page(client, world.shared_participant).text
    assert 'href="tel:+12015550133"' in page and "Copy number" in page
    assert "It leaves at once." in page
    form = {**_form(page), "id": world.shared_participant, "body": "Thinking of you, Cy."}
    done = client.post("/admin/participants/text/", data=form, follow_redirects=True)
    assert "Sent." in done.text
    again = client.post("/admin/participants/text/", data=form)  # a second click, same form
    assert again.status_code == 302
    [text] = _written(services, world.shared_participant)
    assert (text.body, text.direction, text.send_after) == (
        "Thinking of you, Cy.",
        Direction.OUT,
        DAYTIME,
    )
    with services.sessions() as s:
        [actor] = s.scalars(
            sa.select(AuditEvent.actor).where(AuditEvent.action == "text_participant")
        ).all()
    assert actor == f"facilitator:{world.ana}"
    delivery.deliver_many(services, [text.id])  # what its queued send job does
    assert [m["body"] for m in local_twilio.messages()] == ["Thinking of you, Cy."]
    assert 'delivery-sent">sent<' in _page(client, world.shared_participant).text


def test_outside_waking_hours_it_says_when_it_will_leave(admin_app, world, admin_clock):
    services = admin_app.extensions["realign"]
    admin_clock.set(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # 3 am where Cy lives (UTC)
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = _page(client, world.shared_participant).text
    assert "sent now, it leaves today 8 am, their time" in page
    form = {**_form(page), "id": world.shared_participant, "body": "Good morning."}
    done = client.post("/admin/participants/text/", data=form, follow_redirects=True).text
    assert "Queued: it leaves today 8 am, their time" in done
    [text] = _written(services, world.shared_participant)
    assert text.send_after == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_opted_out_people_and_empty_texts_are_refused_and_nothing_typed_is_lost(admin_app, world):
    services = admin_app.extensions["realign"]
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = _page(client, world.shared_participant).text
    empty = client.post(
        "/admin/participants/text/",
        data={**_form(page), "id": world.shared_participant, "body": "   "},
    )
    assert empty.status_code == 422 and "Not sent: write something to send." in empty.text
    with services.sessions() as s:
        s.get(Participant, world.shared_participant).status = ParticipantStatus.OPTED_OUT
        s.commit()
    page = _page(client, world.shared_participant).text
    assert "Texting is off: they replied STOP" in page and 'id="compose-form"' not in page
    refused = client.post(
        "/admin/participants/text/",
        data={**_form(_page(client, world.ana_participant).text), "id": world.shared_participant,
              "body": "Are you there?"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "they replied STOP" in refused.text and "Are you there?" in refused.text
    assert _written(services, world.shared_participant) == []
    # Someone else's participant: not found, whatever the form holds.
    other = client.post(
        "/admin/participants/text/",
        data={**_form(_page(client, world.ana_participant).text), "id": world.ben_participant,
              "body": "Hello"},
    )  # fmt: skip
    assert other.status_code == 404


@pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")
def test_the_compose_box_in_a_browser_counts_segments_and_sends(
    admin_app, world, local_twilio, admin_clock
):
    services = admin_app.extensions["realign"]
    admin_clock.set(DAYTIME)
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/participants/details/?id={world.shared_participant}")
        page.fill("#compose-body", "How did Thursday go? " * 9)
        assert "2 segments" in page.locator(".segment-counter[data-for=compose-body]").inner_text()
        page.fill("#compose-body", "How did Thursday go?")
        assert "1 segment" in page.locator(".segment-counter[data-for=compose-body]").inner_text()
        screenshot(page, "participant-compose")
        page.click("#compose-send")
        page.wait_for_selector("text=Sent.")
        screenshot(page, "participant-compose-sent")
        assert "How did Thursday go?" in page.locator("#conversation").inner_text()
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "participant-compose-phone")
        assert log.csp_violations() == [] and log.errors == []
    [text] = _written(services, world.shared_participant)
    delivery.deliver_many(services, [text.id])
    assert [m["body"] for m in local_twilio.messages()] == ["How did Thursday go?"]
