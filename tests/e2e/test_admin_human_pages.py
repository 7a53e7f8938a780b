"""The programs, audit log, facilitators, API tokens, webhooks and queue health pages speak
words, not keys: cadences read "Every day at 7:00 pm", options "No", languages "English",
audit actors by name and actions as sentences, and every time in the signed-in
facilitator's own zone (the exact UTC instant in a tooltip), never UTC first."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from service.models import AuditEvent, Facilitator, Program
from service.program import tokens, webhooks
from tests.support.admin_walk import login
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 10 am in New York
EARLIER = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)  # 7:30 pm the day before, in New York


@pytest.fixture
def new_yorkers(admin_app, world, admin_clock):
    """Ana and the admin read their times in New York; it is 10 am there."""
    admin_clock.set(NOW)
    with admin_app.extensions["realign"].sessions() as s:
        for fid in (world.ana, world.admin):
            s.get(Facilitator, fid).timezone = "America/New_York"
        s.get(Program, world.ana_program).cadence = "days:0,2,4@19:00"
        s.get(Program, world.ana_program).created_at = EARLIER
        s.commit()
    return world


def _shown_local(page: str, words: str, exact: str) -> bool:
    return re.search(rf'<time datetime="[^"]+" title="{exact}">{words}</time>', page) is not None


def test_programs_read_their_cadence_hours_language_and_options_in_words(admin_app, new_yorkers):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    listing = client.get("/admin/programs/").text
    assert "Mon, Wed, Fri at 7:00 pm" in listing and "Every day at 7:00 pm" in listing
    assert "days:0,2,4@19:00" not in listing and "daily@19:00" not in listing
    assert _shown_local(listing, "yesterday 7:30 pm", "2026-03-03 00:30 UTC")
    details = client.get(f"/admin/programs/details/?id={new_yorkers.ana_program}").text
    assert "Mon, Wed, Fri at 7:00 pm" in details
    assert "8:00 am" in details and "9:00 pm" in details  # waking hours
    assert "English" in details and "United States" in details
    assert "Adaptive cadence: No" in details and "False" not in details
    assert "Streak milestones: 7, 30, 90" in details
    assert _shown_local(details, "yesterday 7:30 pm", "2026-03-03 00:30 UTC")
    assert "UTC</td>" not in details


def test_the_audit_log_names_people_says_what_they_did_and_when_in_your_time(
    admin_app, new_yorkers
):
    world = new_yorkers
    with admin_app.extensions["realign"].sessions() as s:
        s.add_all(
            [
                AuditEvent(at=EARLIER, actor=f"facilitator:{world.ana}", action="program.texts",
                           entity="program", entity_id=world.ana_program,
                           detail={"texts": ["paused.en", "invite.es"]}),
                AuditEvent(at=NOW, actor="system", action="close", entity="participant",
                           entity_id=world.ana_participant,
                           detail={"outcome": "restored", "step": 3}),
                AuditEvent(at=NOW, actor="operator", action="program.update", entity="program",
                           entity_id=world.ana_program,
                           detail={"fields": ["quiet_start", "cadence"]}),
            ]
        )  # fmt: skip
        s.commit()
    client = admin_app.test_client()
    login(client, "root@example.org")
    page = client.get("/admin/audit/").text
    assert "Ana Coach" in page and "facilitator:" not in page
    assert "Changed a program&#39;s texts" in page and "program.texts" not in page
    assert "texts: PAUSE answer (English), Invitation (Español)" in page
    assert "outcome: Restored" in page and "step: 3. Listening deeply" in page
    assert "changed: quiet start, cadence" in page and "The operator (command line)" in page
    assert "Realign" in page and "Closed the participant" in page
    assert _shown_local(page, "yesterday 7:30 pm", "2026-03-03 00:30 UTC")
    assert _shown_local(page, "today 10 am", "2026-03-03 15:00 UTC")
    assert '"texts"' not in page and "{" not in page.split('id="main"')[-1].split("</table>")[0]


def test_facilitators_tokens_and_webhooks_show_times_in_your_zone(admin_app, new_yorkers):
    world = new_yorkers
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        ana = s.get(Facilitator, world.ana)
        ana.last_login_at = EARLIER
        tokens.create(s, ana, "Reports", now=EARLIER, actor=f"facilitator:{ana.id}")
        webhooks.register(
            s, ana, "https://hooks.example.org/realign", ["participant.step_changed"], now=EARLIER
        )
        s.commit()
    client = admin_app.test_client()
    login(client, "root@example.org")
    people = client.get("/admin/facilitators/").text
    assert "Last signed in" in people
    assert _shown_local(people, "yesterday 7:30 pm", "2026-03-03 00:30 UTC")
    client = admin_app.test_client()
    login(client, "ana@example.org")
    mine = client.get("/admin/api-tokens/").text
    assert _shown_local(mine, "yesterday 7:30 pm", "2026-03-03 00:30 UTC") and "Never" in mine
    hooks = client.get("/admin/webhooks/").text
    assert _shown_local(hooks, "yesterday 7:30 pm", "2026-03-03 00:30 UTC")
    for page in (people, mine, hooks):
        assert not re.search(r"\d{2}:\d{2} UTC</td>", page)


def test_queue_health_says_worker_states_in_words_and_heartbeats_in_your_time(
    admin_app, new_yorkers
):
    from rq import Worker

    services = admin_app.extensions["realign"]
    worker = Worker(["turns"], connection=services.redis, name="realign-test-worker")
    worker.register_birth()
    worker.set_state("idle")
    worker.heartbeat()
    try:
        client = admin_app.test_client()
        login(client, "root@example.org")
        page = client.get("/admin/queues/").text
    finally:
        worker.register_death()
    assert "realign-test-worker" in page and "Waiting for work" in page
    assert re.search(r'<time datetime="[^"]+" title="[^"]+ UTC">[^<]+</time>', page)
    assert "UTC</td>" not in page


@pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")
def test_the_pages_in_a_browser_show_words_and_local_times_with_utc_on_hover(
    admin_app, new_yorkers
):
    world = new_yorkers
    with admin_app.extensions["realign"].sessions() as s:
        s.add(AuditEvent(at=EARLIER, actor=f"facilitator:{world.ana}", action="program.texts",
                         entity="program", entity_id=world.ana_program,
                         detail={"texts": ["paused.en"]}))  # fmt: skip
        s.commit()
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base, "root@example.org")
        page.goto(f"{base}/admin/programs/")
        assert "Mon, Wed, Fri at 7:00 pm" in page.inner_text("body")
        screenshot(page, "programs-list")
        page.goto(f"{base}/admin/programs/details/?id={world.ana_program}")
        shown = page.inner_text("body")
        assert "Adaptive cadence: No" in shown and "English" in shown
        stamp = page.locator("time").first
        assert stamp.get_attribute("title") == "2026-03-03 00:30 UTC"
        assert stamp.inner_text() == "yesterday 7:30 pm"
        screenshot(page, "program-details")
        page.goto(f"{base}/admin/audit/")
        shown = page.inner_text("body")
        assert "Ana Coach" in shown and "Changed a program's texts" in shown
        assert "texts: PAUSE answer (English)" in shown and "facilitator:" not in shown
        screenshot(page, "audit-log")
        assert log.csp_violations() == [] and log.errors == []
