"""The cockpit walked as a coach would, in headless Chromium: Today's queue -> a participant
-> a reply sent and delivered through the local Twilio API -> a commitment retired -> a
snooze -> the inbox -> the program's results export; then Today and the participant page on
a phone. Each step checks the words on the page; no page shows UTC as the main time or a
stored key instead of its label."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.messaging import delivery, statuses
from service.models import AttentionItem, Message, Participant
from tests.e2e.test_admin_participant_page import living
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")

NOON_IN_NEW_YORK = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}
# Stored keys a coach must never read in place of their labels.
KEYS = (
    "step1_what_happened", "step1_emotions", "step2_responsibility", "claimed", "opted_out",
    "undelivered", "no-answer", "in-progress", "headsup", "missed_run", "call_requested",
    "change_requested", "checkin_open", "next_checkin", "not_delivered", "commitment_retired",
    "call_missed", "no_answer", "America/New_York", "facilitator:",
)  # fmt: skip
UTC_AS_TIME = re.compile(r"\d{1,2}:\d{2}\s*(?:[ap]m\s*)?UTC")  # a time given in UTC


@pytest.fixture
def admin_settings(local_twilio):
    return {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_base_url": local_twilio.base_url,
        "twilio_from_number": "+12015550100",
    }


def human(page) -> str:
    """What the page says to the coach (tooltips and attributes left out); checked for UTC
    as a time and for stored keys."""
    text = page.inner_text("body")
    assert not UTC_AS_TIME.search(text), (page.url, UTC_AS_TIME.search(text).group(0))
    shown = [key for key in KEYS if key in text]
    assert shown == [], (page.url, shown)
    return text


def settled(local_twilio, body: str, status: str = "delivered") -> dict:
    """The local Twilio API's record of the text once its carrier step is done (it moves
    each text to sent, then delivered, on its own threads)."""
    for _ in range(200):
        found = [m for m in local_twilio.messages() if m["body"] == body]
        if found and found[0]["status"] == status:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"the local Twilio API never marked {body!r} {status}")


def test_a_coach_walks_today_a_participant_a_reply_a_retirement_a_snooze_the_inbox_and_results(
    admin_app, admin_clock, world, local_twilio
):
    services = admin_app.extensions["realign"]
    admin_clock.set(NOON_IN_NEW_YORK)
    pid = world.shared_participant
    call, walk, dana = living(admin_app, pid)
    with services.sessions() as s:
        said = Message(direction="in", participant_id=pid, program_id=world.shared_program,
                       body="I might miss Sunday's call with Sam.", status="processed",
                       created_at=NOON_IN_NEW_YORK - timedelta(hours=2))  # fmt: skip
        s.add(said)
        s.flush()
        s.add(AttentionItem(participant_id=pid, program_id=world.shared_program, kind="headsup",
                            detail="a promise is at risk", message_id=said.id,
                            created_at=said.created_at))  # fmt: skip
        s.commit()
    reply = "Thanks for telling me, Cy. Shall we talk on Saturday?"
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)

        # Today: who needs me, and what did they say.
        today = human(page)
        assert "Needs you" in today and "Cy Shared" in today
        person = page.locator(f"#person-{pid}")
        assert "A promise is at risk" in person.inner_text()
        assert "I might miss Sunday's call with Sam." in person.inner_text()
        screenshot(page, "walk-1-today")

        # The participant: what they are asked, the thread, the reply.
        person.locator("a.attention-participant").click()
        page.wait_for_url(re.compile(rf".*/admin/participants/details/\?id={pid}"))
        shown = human(page)
        assert "Next check-in today 7 pm, their time" in shown
        assert "times are theirs (New York)" in shown
        assert "Needs attention" in shown and "I might miss Sunday's call with Sam." in shown
        page.fill("#compose-body", reply)
        page.click("#compose-send")
        page.wait_for_selector("text=Sent.")
        with services.sessions() as s:
            text = s.scalars(sa.select(Message).where(Message.body == reply)).one()
        delivery.deliver_many(services, [text.id])  # what its queued send job does
        at_twilio = settled(local_twilio, reply)
        assert at_twilio["to"] == "+12015550133"
        admin_clock.advance(minutes=5)  # no callback reaches this test app: it asks Twilio
        statuses.check_unfinished(services)
        page.reload()
        bubble = page.locator(f"#sms-{text.id}")
        assert "delivered" in bubble.inner_text() and reply in bubble.inner_text()
        screenshot(page, "walk-2-participant-replied")

        # A commitment retired: gone from the list, kept under Retired, a line in the thread.
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(f"#retire-{dana}")
        page.wait_for_selector("text=Retired: check-ins no longer ask about it.")
        listed = page.locator("#commitment-list").inner_text()
        assert "Tell Dana" not in listed and "Call Sam on Sundays" in listed
        page.click("#retired-commitments summary")
        assert "Tell Dana by Thursday" in page.locator("#retired-commitments").inner_text()
        assert (
            "Commitment retired: Tell Dana · by Ana Coach" in page.locator("#thread").inner_text()
        )
        human(page)

        # A snooze, from their page: back on Today tomorrow morning.
        page.locator(".attention-item .snooze-tomorrow").click()
        page.wait_for_selector("text=Snoozed: back on Today tomorrow morning.")
        assert "snoozed until tomorrow 8 am" in human(page)
        screenshot(page, "walk-3-participant-retired-snoozed")
        page.goto(f"{base}/admin/")
        assert "I might miss Sunday's call" not in page.locator("#attention").inner_text()
        human(page)

        # The inbox: what came in, not yet read.
        page.click("nav >> text=Inbox")
        page.wait_for_url(f"{base}/admin/inbox/")
        inbox = human(page)
        assert "I might miss Sunday's call with Sam." in inbox and "their time" in inbox
        screenshot(page, "walk-4-inbox")

        # The program's results: one row per participant.
        page.goto(f"{base}/admin/programs/details/?id={world.shared_program}")
        human(page)
        with page.expect_download() as download:
            page.click("#results-csv")
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        [cy] = [row for row in rows if "Cy" in " ".join(row.values())]
        assert "5" in " ".join(cy.values())

        # On a phone: Today and the participant page, nothing wider than the screen.
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/admin/")
        assert "Needs you" in human(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "walk-5-today-phone")
        page.goto(f"{base}/admin/participants/details/?id={pid}")
        phone = human(page)
        assert "Next check-in today 7 pm, their time" in phone and reply in phone
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "walk-6-participant-phone")
        assert log.csp_violations() == [] and log.errors == []
    with services.sessions() as s:
        assert s.get(Participant, pid).status == "active"
