"""The participant side of the admin in a real headless Chromium, with the CSP on.

Create a participant through the form, open their page (play button, thread), close them
through the action, and import a CSV with a bad row (the progress bar is a static script).
Any CSP violation or uncaught script error fails the test. Screenshots go to tests/e2e/screens/.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from service.core import texts
from service.models import Message, Participant, Reflection, Statement
from tests.support.admin import WAV
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")


def assert_clean(log: ConsoleLog):
    assert log.csp_violations() == [], log.messages
    assert log.errors == []


def test_create_open_and_close_a_participant(admin_app, world, tmp_path):
    services = admin_app.extensions["realign"]
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.click("nav >> text=Participants")
        page.wait_for_url(f"{base}/admin/participants/")
        page.click("text=Create")
        page.fill("#name", "Dana <b>Bold</b>")
        page.fill("#phone", "201 555 0177")
        page.fill("#timezone", "Mars/Olympus")
        page.select_option("#program_id", str(world.ana_program))
        page.fill("#commitments-0-text", "Text before changing plans")
        page.fill("#commitments-0-sign", "No surprise changes for a week")
        page.click("#save")
        # A bad time zone is a form error beside the field; what was typed stays.
        assert page.locator(".invalid-feedback", has_text="time zone").is_visible()
        assert page.input_value("#name") == "Dana <b>Bold</b>"
        page.fill("#timezone", "America/New_York")
        page.click("#save")
        page.wait_for_url(re.compile(r"/admin/participants/details/\?id=\d+"))
        pid = int(page.url.rsplit("=", 1)[1])
        with services.sessions() as s:
            dana = s.get(Participant, pid)
            assert (dana.phone, dana.timezone) == ("+12015550177", "America/New_York")
            assert s.scalar(sa.select(Message.template).where(Message.participant_id == pid)) == (
                "invite"
            )
            # What the conversation would have stored by now: a statement and a reflection.
            audio = tmp_path / "reflection.wav"
            audio.write_bytes(WAV)
            s.add(
                Statement(
                    participant_id=pid,
                    step=1,
                    kind="what_happened",
                    body="<img src=x onerror=alert(1)>",
                )
            )
            s.add(
                Reflection(
                    participant_id=pid,
                    storage_path=str(audio),
                    transcript="I heard that you felt left out.",
                    status="kept",
                    duration_s=1,
                )
            )
            s.commit()
        page.reload()
        assert page.locator("#participant-name").inner_text() == "Dana <b>Bold</b>"
        assert page.locator("#statements blockquote p").inner_text() == (
            "<img src=x onerror=alert(1)>"
        )
        player = page.locator("audio.reflection-audio")
        assert player.count() == 1 and player.get_attribute("controls") is not None
        src = player.get_attribute("src")
        audio_response = page.request.get(f"{base}{src}")
        assert audio_response.status == 200 and audio_response.body() == WAV
        assert "Text before changing plans" in page.locator("#commitments").inner_text()
        assert page.locator(".story-thread .sms-out").count() == 1
        assert page.locator(".checkin-calendar td.day").count() == 42
        screenshot(page, "admin-participant-page")

        page.click("#action-close")
        assert page.locator("input[name=outcome]:checked").count() == 0  # no outcome chosen
        assert page.locator("#message").input_value() == ""
        page.check("#outcome-ended")  # its standard text, ready to send or edit
        assert page.locator("#message").input_value() == texts.closing_texts("en")["ended"]
        assert "1 segment" in page.locator(".segment-counter").inner_text()
        screenshot(page, "admin-participant-close")
        page.fill("#message", "Thank you for the work you did.")
        page.click("#confirm-close")
        page.wait_for_url(re.compile(r"/admin/participants/details/\?id=\d+"))
        assert page.locator("#participant-status").inner_text() == "Closed"
        assert "nothing more is scheduled" in page.content()
        with services.sessions() as s:
            dana = s.get(Participant, pid)
            assert (dana.status, dana.outcome) == ("closed", "ended")
        assert_clean(log)


def test_csv_import_with_a_bad_row_and_a_progress_bar(admin_app, world, tmp_path):
    services = admin_app.extensions["realign"]
    csv_file = tmp_path / "people.csv"
    lines = ["name,phone,timezone"] + [
        f"Person {n},+1201555{n:04d},America/Chicago" for n in range(300, 340)
    ]
    lines.append("Bad Number,12345,UTC")
    csv_file.write_text("\n".join(lines) + "\n")
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/participants/")
        page.click("#import-csv")
        page.select_option("#program_id", str(world.ana_program))
        page.set_input_files("#file", str(csv_file))
        page.click("#preview")
        assert "40 rows ready to import" in page.locator("#import-summary").inner_text()
        bad = page.locator("#import-preview tr.table-danger")
        assert bad.count() == 1 and "not a valid phone number" in bad.inner_text()
        page.click("#confirm-import")
        assert page.locator("#import-bar").is_visible()
        page.wait_for_url(
            re.compile(r"/admin/participants/\?flt0_0="),
            wait_until="domcontentloaded",
            timeout=30_000,
        )
        assert "Imported 40 participants" in page.content()
        screenshot(page, "admin-participants-imported")
        assert_clean(log)
    with services.sessions() as s:
        n = s.scalar(
            sa.select(sa.func.count())
            .select_from(Participant)
            .where(Participant.program_id == world.ana_program)
        )
        assert n == 41  # Ari plus the 40 good rows


def test_a_long_thread_opens_on_its_newest_texts_and_pages_back(admin_app, world):
    """1,500 texts: the page shows the newest 50 first, and "Older texts" walks back."""
    from datetime import timedelta

    services = admin_app.extensions["realign"]
    now = services.now()
    with services.sessions() as s:
        s.add_all(
            Message(
                direction="in" if k % 2 else "out",
                participant_id=world.ana_participant,
                program_id=world.ana_program,
                body=f"Text {k:04d} of a long history",
                status="received" if k % 2 else "delivered",
                created_at=now - timedelta(minutes=1500 - k),
            )
            for k in range(1500)
        )
        s.commit()
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/participants/details/?id={world.ana_participant}")
        thread = page.locator(".story-thread .sms-body")
        assert thread.count() == 50
        assert thread.first.inner_text() == "Text 1499 of a long history"  # newest on top
        assert thread.first.is_visible()
        screenshot(page, "admin-participant-long-thread")
        page.click("text=Older texts")
        assert thread.first.inner_text() == "Text 1449 of a long history"
        assert page.locator("text=Back to the newest texts").is_visible()
        assert_clean(log)
