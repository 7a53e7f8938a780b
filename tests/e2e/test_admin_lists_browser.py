"""What a coach sees in the participants list and the program form, in a real headless
Chromium with the CSP on: who needs her, what we wait for, the last reply as a time ago,
the 14-day dot strip with its legend, test personas hidden until asked for, search by the
last digits of a number, cards on a 390 px phone; the program form in sections with the
cadence fields switching, a bad sender number's error beside the field, the zone picker.
Screenshots go to tests/e2e/screens/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from service import records
from service.core import personas
from service.models import CheckIn, CheckInAnswer, Commitment, Participant, Program
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")

# Ari's last four days, oldest first (today last): kept, partly, not kept, no answer.
DAYS = (("answered", "kept"), ("answered", "partly"), ("answered", "missed"), ("missed", None))


# How long a step may wait on a busy two-core machine (a bound, never a measurement).
LOADED_MACHINE_MS = 30_000

# Elements reaching past a 390 px screen (what makes a phone scroll sideways).
WIDER_THAN_SCREEN = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391 && e.offsetParent !== null)
  .map(e => e.tagName + '.' + e.className).slice(0, 8)
"""


def assert_clean(log: ConsoleLog):
    assert log.csp_violations() == [], log.messages
    assert log.errors == []


def a_fortnight(app, world):
    """Ari in New York: at step 5 with four days of check-ins, a promise at risk, a reply 3
    days ago; Cy invited; a test persona in Ana's program."""
    services = app.extensions["realign"]
    now = services.now()
    with services.sessions() as s:
        ari = s.get(Participant, world.ana_participant)
        ari.status, ari.step, ari.timezone = "active", 5, "America/New_York"
        ari.last_inbound_at = now - timedelta(days=3, hours=2)
        c = Commitment(participant_id=ari.id, text="Call on Sundays", status="active")
        s.add(c)
        s.flush()
        for back, (status, result) in zip(range(3, -1, -1), DAYS, strict=True):
            due = now - timedelta(days=back, minutes=5)
            ci = CheckIn(
                participant_id=ari.id, due_at=due, status=status, sent_at=due,
                answered_at=due if result else None, commitment_ids=[c.id],
            )  # fmt: skip
            s.add(ci)
            s.flush()
            if result:
                s.add(CheckInAnswer(checkin_id=ci.id, commitment_id=c.id, result=result))
        records.flag(s, ari, "headsup", "I might miss Sunday", now)
        cy = s.get(Participant, world.shared_participant)
        cy.status = "invited"
        s.add(
            Participant(
                program_id=world.ana_program, name=f"{personas.NAME} 1",
                phone=personas.number(personas.FIRST), status="active",
            )
        )  # fmt: skip
        s.commit()


def row_of(page, name):
    return page.locator("table.model-list tbody tr", has=page.locator(f"text={name}"))


def test_the_list_a_coach_scans_on_a_desktop_and_on_a_phone(admin_app, world):
    a_fortnight(admin_app, world)
    with serve(admin_app) as base, chromium_page() as page:
        page.set_default_timeout(LOADED_MACHINE_MS)
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/participants/")
        ari = row_of(page, "Ari Ana-side")
        assert ari.locator(".needs-me").inner_text() == "Needs you"
        assert "A promise is at risk" in ari.locator(".needs-me").get_attribute("title")
        assert ari.locator(".waiting-on").inner_text() == "Nothing"
        reply = ari.locator("time.last-reply")
        assert reply.inner_text() == "3 days ago"
        assert reply.get_attribute("title").endswith(", their time")
        dots = ari.locator(".dot-strip .dot")
        assert dots.count() == 14
        states = [d.get_attribute("class").split("dot-")[-1] for d in dots.all()[-4:]]
        assert states == ["kept", "partly", "not_kept", "no_answer"]
        assert dots.nth(0).get_attribute("title").endswith(": no check-in")
        assert re.fullmatch(r"\w{3} \d{1,2} \w{3}: not kept", dots.nth(12).get_attribute("title"))
        assert "38% kept" in ari.inner_text()  # (1 + ½ + 0 + 0) of 4
        cy = row_of(page, "Cy Shared")
        assert cy.locator(".waiting-on").inner_text() == "Their YES to the invitation"
        assert cy.locator(".needs-me").count() == 0
        assert cy.locator(".last-reply").inner_text() == "never"
        legend = page.locator("#strip-legend")
        for words in ("kept", "partly kept", "not kept", "no answer", "no check-in"):
            assert legend.locator("li", has_text=words).first.is_visible()
        # Test personas are hidden until asked for.
        assert page.locator("text=Test persona 1").count() == 0
        screenshot(page, "participants-list-desktop")
        page.click("#show-personas")
        page.wait_for_selector("text=Test persona 1")
        assert page.locator("#personas-hidden").count() == 0
        # Search by the last digits of a number.
        page.goto(f"{base}/admin/participants/")
        page.fill("input[name=search]", "0111")
        page.press("input[name=search]", "Enter")
        page.wait_for_url(re.compile(r"search=0111"))
        assert page.locator("table.model-list tbody tr").count() == 1
        assert row_of(page, "Ari Ana-side").count() == 1
        # On a phone: one card per person, each value named, nothing wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/admin/participants/")
        assert not page.locator("table.model-list thead").is_visible()
        ari = row_of(page, "Ari Ana-side")
        assert ari.evaluate("tr => getComputedStyle(tr).display") == "block"
        waiting = ari.locator("td.col-waiting_on")
        assert waiting.evaluate("td => getComputedStyle(td, '::before').content") == (
            '"Waiting on: "'
        )
        assert ari.locator(".dot-strip").is_visible()
        screenshot(page, "participants-list-phone")
        wide = page.evaluate(WIDER_THAN_SCREEN)
        assert wide == [], wide
        assert_clean(log)


def test_the_program_form_in_sections_with_its_cadence_zone_and_sender(admin_app, world):
    services = admin_app.extensions["realign"]
    with serve(admin_app) as base, chromium_page() as page:
        page.set_default_timeout(LOADED_MACHINE_MS)
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/programs/new/")
        for section in ("Basics", "Schedule", "Texts", "Options"):
            assert page.locator("legend", has_text=section).is_visible()
        days, every = page.locator(".field-cadence_days"), page.locator(".field-cadence_every")
        assert not days.is_visible() and not every.is_visible()
        page.select_option("#cadence_kind", "days")
        assert days.is_visible() and not every.is_visible()
        page.select_option("#cadence_kind", "every_n_days")
        assert every.is_visible() and not days.is_visible()
        page.select_option("#cadence_kind", "days")
        page.check("#cadence_days-0")
        page.check("#cadence_days-3")
        # The zone picker: a text box with every zone to pick from as one types.
        zone = page.locator("#timezone")
        assert zone.get_attribute("list") == "timezone-zones"
        assert page.locator("#timezone-zones option").count() > 300
        assert page.locator('#timezone-zones option[value="Europe/Berlin"]').count() == 1
        page.fill("#name", "Berlin reset")
        page.fill("#timezone", "Europe/Berlin")
        page.fill("#sender_number", "555-01")
        screenshot(page, "program-form")
        page.click("#save")
        error = page.locator(".field-sender_number .invalid-feedback")
        assert error.is_visible() and error.inner_text().startswith("Sender number: ")
        assert page.input_value("#sender_number") == "555-01"
        assert page.locator(".field-cadence_days").is_visible()  # the choice stays
        screenshot(page, "program-form-sender-error")
        page.fill("#sender_number", "030 1234567")  # a Berlin number, read in Germany
        page.click("#save")
        page.wait_for_url(re.compile(r"/admin/programs/details/\?id=\d+"))
        assert page.locator("#next-steps").inner_text() == "Berlin reset is ready. Next:"
        assert (
            page.locator("#next-invite").is_visible() and page.locator("#next-sender").count() == 0
        )
        screenshot(page, "program-created-next-steps")
        with services.sessions() as s:
            from sqlmodel import select

            program = s.exec(select(Program).where(Program.name == "Berlin reset")).one()
            assert (program.country, program.sender_number) == ("DE", "+49301234567")
            assert program.cadence == "days:0,3@19:00" and program.timezone == "Europe/Berlin"
        assert_clean(log)
