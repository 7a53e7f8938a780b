"""The simulator in a real headless Chromium, with the CSP on: a facilitator walks a test
persona from the invitation through steps 1 and 2 by text and step 3 by a call with a
pretend recording, the newest text in view after every send. Screenshots go to
tests/e2e/screens/ (not committed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from service.models import Participant, Reflection
from tests.support.browser import ConsoleLog, chromium_page, missing_chromium, serve, sign_in

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")
SCREENS = Path(__file__).resolve().parent / "screens"


def shot(page, name: str) -> Path:
    SCREENS.mkdir(exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        selector,
    )


def send(page, text: str) -> None:
    page.fill("#body", text)
    page.click("#send")
    page.wait_for_load_state("load")
    assert page.url.endswith("#newest")
    assert in_view(page, "#newest"), text  # the newest text, not the top of the thread
    assert in_view(page, "#send")  # and the box to answer in


def test_a_facilitator_walks_a_persona_through_step_3_in_the_simulator(admin_app, world):
    services = admin_app.extensions["realign"]
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/simulator/?program_id={world.ana_program}")
        warning = page.locator("#real-people-warning")
        assert "never a real person" in warning.inner_text()
        page.click("#add-persona")
        page.wait_for_load_state("load")
        assert "Reply YES to consent" in page.inner_text("body")
        send(page, "YES")
        for answer in (
            "We both missed the launch date.",
            "I felt ashamed; she felt let down.",
            "Yes, it has happened before.",
            "I promised a date I could not keep.",
        ):
            send(page, answer)
        assert "step 3" in page.inner_text("#thread-title")
        shot(page, "simulator-step3-thread")

        page.click("#start-call")
        page.wait_for_load_state("load")
        if page.locator("#pretend-record").count() == 0:  # the menu: press 1 to record
            page.fill("#digits", "1")
            page.click("#call-answer button[type=submit]")
            page.wait_for_load_state("load")
        page.click("#pretend-record")
        page.wait_for_load_state("load")
        call_log = page.inner_text("#call-log")
        assert "speaks for 40 seconds" in call_log and "press 1" in call_log.lower()
        assert "didn't hear anything" not in call_log  # only said when nothing was recorded
        page.fill("#digits", "1")
        page.click("#call-answer button[type=submit]")
        page.wait_for_load_state("load")
        assert "step 4" in page.inner_text("#thread-title")
        assert "kept" in page.inner_text("#call-log").lower()
        shot(page, "simulator-step3-recorded")

        with services.sessions() as s:
            persona = s.scalar(sa.select(Participant).where(Participant.name.like("Test persona%")))
            [reflection] = s.scalars(
                sa.select(Reflection).where(Reflection.participant_id == persona.id)
            ).all()
        assert (reflection.duration_s, reflection.status) == (40, "kept")
        # The participant page plays it, like any reflection.
        page.click("#participant-page")
        page.wait_for_load_state("load")
        assert page.locator("audio").count() >= 1
        shot(page, "simulator-persona-page")
        assert log.csp_violations() == [], log.messages
        assert log.errors == []


def test_reset_asks_first_and_brings_the_persona_back_to_the_start(admin_app, world):
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/simulator/?program_id={world.ana_program}")
        page.click("#add-persona")
        page.wait_for_load_state("load")
        send(page, "YES")
        asked = []
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.click("#reset-persona")  # "no": nothing happens
        assert "Reset this persona?" in asked[0]
        assert "step 1 · Active" in page.inner_text("#thread-title")
        page.once("dialog", lambda d: d.accept())
        page.click("#reset-persona")
        page.wait_for_load_state("load")
        assert "back at the start" in page.inner_text("body")
        assert "Invited" in page.inner_text("#thread-title")
        shot(page, "simulator-reset")
        assert log.csp_violations() == [], log.messages
        assert log.errors == []


def test_the_program_page_downloads_its_results(admin_app, world):
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/programs/details/?id={world.ana_program}")
        assert "test personas left out" in page.inner_text("#export-results")
        shot(page, "program-results-buttons")
        with page.expect_download() as download:
            page.click("#results-csv")
        got = download.value
        assert got.suggested_filename.endswith(".csv")
        text = Path(got.path()).read_text()
        assert text.splitlines()[0].startswith("participant_id,name,step,step_name,status")
        assert "Ari Ana-side" in text
        assert log.csp_violations() == [], log.messages
