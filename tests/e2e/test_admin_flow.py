"""The facilitator's main flow, in Debian's headless Chromium with the CSP on.

Sign in; create a program; import a CSV with a bad row; run the simulator through consent
and steps 1–2; see the statements on the participant page; add a commitment; close the
participant; sign out. Screenshots of the dashboard and the participant page go to
tests/e2e/screens/. Any CSP violation or uncaught script error fails the test.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from service.models import Commitment, Participant, Program, Statement
from tests.support.browser import (
    ARTIFACTS,
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")

CSV = (
    "name,phone,timezone,language\n"
    "Dana Founder,+1 201 555 0161,America/New_York,en\n"
    "Eli Cofounder,(201) 555-0162,,es\n"
    "Broken Row,12345,Mars/Olympus,en\n"
)
ANSWERS = (
    "We promised investors a date and I moved it without telling Eli.",
    "I felt ashamed; Eli felt blindsided and alone.",
    "Yes, it happened last year with the pricing change.",
    "I see how deciding alone left you carrying the fallout.",
)


def test_facilitator_main_flow(admin_app, world, tmp_path):
    services = admin_app.extensions["realign"]
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(CSV)
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)

        # Sign in.
        sign_in(page, base)

        # Create a program (every setting has a sensible default in the form).
        page.goto(f"{base}/admin/programs/new/")
        page.fill("#name", "Founders reset")
        page.fill("#timezone", "America/New_York")  # the zone picker: typed, or picked
        page.select_option("#cadence_kind", "days")
        page.check("#cadence_days-0")
        page.check("#cadence_days-3")
        page.fill("#cadence_time", "18:30")
        screenshot(page, "admin-flow-program-form")
        page.click("#save")
        page.wait_for_url(re.compile(r".*/admin/programs/.*"))
        with services.sessions() as s:
            program = s.scalar(sa.select(Program).where(Program.name == "Founders reset"))
        assert program.cadence == "days:0,3@18:30" and program.timezone == "America/New_York"

        # Texts per language: the live segment counter follows what is typed.
        page.goto(f"{base}/admin/programs/texts/?id={program.id}")
        counter = page.locator('.segment-counter[data-for="text-help-en"]')
        page.click("#box-text-help-en .js-customise")
        page.fill("#text-help-en", "Reply STOP to opt out. " + "x" * 150)
        assert counter.get_attribute("data-segments") == "2"
        page.fill("#text-help-en", "Need help? Text your facilitator. Reply STOP to opt out. 🙂")
        assert counter.get_attribute("data-encoding") == "UCS-2"
        page.locator("#box-text-help-en").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-flow-texts.png"))  # the viewport: a tall page
        page.fill("#text-help-en", "")

        # Import a CSV with a bad row: preview shows the problem, the good rows go in.
        page.goto(f"{base}/admin/participants/import/")
        page.select_option("#program_id", str(program.id))
        page.set_input_files("#file", str(csv_file))
        page.click("#preview")
        page.wait_for_selector("#import-preview")
        bad = page.locator("#import-preview tr.table-danger")
        assert bad.count() == 1 and "Broken Row" in bad.inner_text()
        page.click("#confirm-import")
        page.wait_for_selector("#import-status.text-success", timeout=15_000)
        page.wait_for_url(lambda url: "/import" not in url, timeout=15_000)
        with services.sessions() as s:
            names = set(
                s.scalars(sa.select(Participant.name).where(Participant.program_id == program.id))
            )
        assert names == {"Dana Founder", "Eli Cofounder"}

        # Simulator: a test persona consents and answers steps 1 and 2.
        page.goto(f"{base}/admin/simulator/?program_id={program.id}")
        page.click("#add-persona")
        page.wait_for_selector("#thread .bubble.out")
        assert "YES" in page.locator("#thread").inner_text()
        for body in ("YES", *ANSWERS):
            page.fill("#body", body)
            page.click("#send")
            page.wait_for_selector(f"#thread .bubble.in >> text={body[:20]}")
        thread = page.locator("#thread").inner_text()
        assert "Step 1" in thread
        screenshot(page, "admin-flow-simulator")
        with services.sessions() as s:
            persona = s.scalar(
                sa.select(Participant).where(
                    Participant.program_id == program.id, Participant.name.like("Test persona%")
                )
            )
            kinds = list(
                s.scalars(
                    sa.select(Statement.kind)
                    .where(Statement.participant_id == persona.id)
                    .order_by(Statement.id)
                )
            )
        assert kinds == ["what_happened", "emotions", "pattern", "responsibility"]

        # The participant page shows the statements.
        page.click("#participant-page")
        page.wait_for_url(re.compile(r".*/admin/participants/details/.*"))
        statements = page.locator("#statements").inner_text()
        for answer in ANSWERS:
            assert answer in statements

        # Add a commitment.
        page.goto(f"{base}/admin/participants/edit/?id={persona.id}")
        page.fill("#commitments-0-text", "Tell Eli before changing any shared date.")
        page.fill("#commitments-0-sign", "Eli hears about changes from me first.")
        page.click("#save")
        page.goto(f"{base}/admin/participants/details/?id={persona.id}")
        assert (
            "Tell Eli before changing any shared date." in page.locator("#commitments").inner_text()
        )
        screenshot(page, "admin-flow-participant")

        # Close the participant.
        page.click("#action-close")
        page.check("#outcome-restored")
        page.fill("#message", "Thank you for the work you did here.")
        page.click("#confirm-close")
        page.wait_for_url(re.compile(r".*/admin/participants/.*"))
        with services.sessions() as s:
            closed = s.get(Participant, persona.id)
            assert (closed.status, closed.outcome) == ("closed", "restored")
            assert (
                s.scalar(
                    sa.select(sa.func.count(Commitment.id)).where(
                        Commitment.participant_id == persona.id
                    )
                )
                == 1
            )

        # The dashboard, then sign out.
        page.goto(f"{base}/admin/")
        card = page.locator(f"#program-{program.id}")
        assert card.locator(".funnel-row").count() == 7  # invited, the five steps, closed
        assert "this week" in card.locator(".this-week").inner_text().lower()
        screenshot(page, "admin-flow-dashboard")
        page.click("#sign-out")
        page.wait_for_url(re.compile(r".*/admin/login.*"))
        page.goto(f"{base}/admin/")
        assert "/admin/login" in page.url

        assert log.csp_violations() == [], log.messages
        assert log.errors == []
