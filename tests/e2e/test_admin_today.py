"""Today, the coach's first page: who needs me (grouped by person, urgent first, with what
they said and a player for a reflection), snooze / resolve / undo, items that settle once
their cause is gone, people gone quiet, and where each program's people are."""

from __future__ import annotations

import io
import re
import wave
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.core.enums import AttentionKind, Direction, MessageStatus
from service.messaging.inbound import InboundSms, receive_sms
from service.models import (
    AttentionItem,
    AuditEvent,
    Call,
    CheckIn,
    Commitment,
    Message,
    Participant,
    Program,
    Reflection,
)
from service.program import closure, conversation, quiet
from service.records import flag
from service.unit_of_work import UnitOfWork
from service.voice import calls
from tests.support.admin_walk import TOKEN, login
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)

NUMBER = "+12015550100"  # Ana's program's number
LONG = (
    "HEADSUP I may miss Sunday's call with my sister because the shift changed again and "
    "I have not told her yet, I keep putting it off and I know that is the old pattern "
    "showing up. END-OF-TEXT"
)
PERSONA = "+12025550150"


def sound() -> bytes:
    """Half a second of silence, a WAV file a browser really plays."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 4000)
    return out.getvalue()


WAV = sound()


def services_of(app):
    return app.extensions["realign"]


_sids = iter(range(10**6))


def texted(app, participant_id: int, body: str) -> int:
    """A text from the participant, through the app's own inbound door and turn."""
    services = services_of(app)
    with services.sessions() as s:
        phone = s.get(Participant, participant_id).phone
    sms = InboundSms(f"SM{next(_sids):032d}", phone, NUMBER, body)
    message_id = receive_sms(services, sms)
    conversation.handle_inbound(services, message_id)
    return message_id


def open_items(app, participant_id: int) -> list[str]:
    with services_of(app).sessions() as s:
        return sorted(
            s.scalars(
                sa.select(AttentionItem.kind).where(
                    AttentionItem.participant_id == participant_id,
                    AttentionItem.resolved_at.is_(None),
                )
            )
        )


@pytest.fixture
def today(admin_app, world, tmp_path):
    """Ari (Ana's, in New York) has a HEADSUP in her own long words and a new reflection;
    Cy (shared) cannot be reached; Bo (Ben's) has a secret HEADSUP; a test persona of
    Ana's has one too."""
    services = services_of(admin_app)
    now = services.now()
    audio = tmp_path / "reflection.wav"
    audio.write_bytes(WAV)
    with services.sessions() as s:
        s.get(Program, world.ana_program).sender_number = NUMBER
        for pid in (world.ana_participant, world.shared_participant, world.ben_participant):
            p = s.get(Participant, pid)
            p.status, p.consent_at = "active", now - timedelta(days=1)
            p.timezone = "America/New_York"
        persona = Participant(
            program_id=world.ana_program, name="Test persona 1", phone=PERSONA,
            status="active", consent_at=now,
        )  # fmt: skip
        s.add(persona)
        s.flush()
        reflection = Reflection(
            participant_id=world.ana_participant, storage_path=str(audio), status="kept",
            duration_s=42, created_at=now,
        )  # fmt: skip
        s.add(reflection)
        s.flush()
        ari = s.get(Participant, world.ana_participant)
        flag(s, ari, AttentionKind.REFLECTION, "recorded a reflection", now,
             reflection_id=reflection.id)  # fmt: skip
        cy = s.get(Participant, world.shared_participant)
        cy.status = "undeliverable"
        flag(s, cy, AttentionKind.UNDELIVERABLE, "texts cannot reach them (error 30003)",
             now - timedelta(hours=3))  # fmt: skip
        flag(s, s.get(Participant, world.ben_participant), AttentionKind.HEADSUP, "BEN-SECRET", now)
        flag(s, persona, AttentionKind.HEADSUP, "PERSONA-ITEM", now)
        s.commit()
        ids = {"reflection": reflection.id, "persona": persona.id}
    ids["headsup_message"] = texted(admin_app, world.ana_participant, LONG)
    with services.sessions() as s:
        mine = sa.select(AttentionItem.kind, AttentionItem.id).where(
            AttentionItem.participant_id == world.ana_participant
        )
        items = dict(s.execute(mine).all())
        ids["headsup"], ids["reflection_item"] = items["headsup"], items["reflection"]
        ids["ben"] = s.scalar(
            sa.select(AttentionItem.id).where(AttentionItem.participant_id == world.ben_participant)
        )
    return ids


def test_today_groups_people_urgent_first_with_what_they_said_and_a_player(admin_app, world, today):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/").text
    # Ben's people and test personas are never on Ana's Today.
    assert "BEN-SECRET" not in page and "PERSONA-ITEM" not in page and "Test persona" not in page
    # One card per person; the one texts cannot reach first, then Ari with both her items.
    assert page.count('class="card mb-2 attention-person"') == 2
    assert page.index('id="person-' + str(world.shared_participant)) < page.index(
        'id="person-' + str(world.ana_participant)
    )
    ari = page[page.index(f'id="person-{world.ana_participant}"') :]
    ari = ari[: ari.index("</article>")]
    assert ari.index("A promise is at risk") < ari.index("New reflection")
    # What she said: its first ~140 characters, all of it one click away.
    summary = re.search(r"<summary>“([^<]*)”</summary>", ari).group(1)
    assert summary.startswith("HEADSUP I may miss Sunday") and summary.endswith("…")
    assert len(summary) <= 141 and "END-OF-TEXT" not in summary
    assert 'class="full-text' in ari and "END-OF-TEXT" in ari
    # Her reflection plays right here (the participant page's scoped audio route).
    src = re.search(r'<audio controls preload="none" class="[^"]*" src="([^"]+)"', ari).group(1)
    assert src == f"/admin/participants/audio/?id={today['reflection']}"
    assert client.get(src).data == WAV
    assert "42 seconds" in ari
    # Her times are hers, UTC only in the tooltip.
    assert "today" in ari and "their time" in ari
    assert re.search(r">[^<]*UTC[^<]*<", page) is None


def _post(client, url, **data):
    token = TOKEN.search(client.get("/admin/").text).group(1)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)


def test_snooze_resolve_and_undo_are_a_coachs_own_and_say_what_they_did(
    admin_app, world, today, admin_clock
):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    item = today["headsup"]
    page = _post(client, f"/admin/attention/{item}/snooze", until="tomorrow").text
    assert "Snoozed: back on Today tomorrow morning." in page
    assert f'id="item-{item}"' not in page  # off the list...
    handled = page[page.index('id="handled"') :]
    assert "snoozed until tomorrow 8 am" in handled  # ...until 8 am in Ari's New York
    # Undo a snooze, resolve, undo the resolve.
    _post(client, f"/admin/attention/{item}/snooze", until="week")
    page = _post(client, f"/admin/attention/{item}/reopen").text
    assert "Back on Today." in page and f'id="item-{item}"' in page
    page = _post(client, f"/admin/attention/{item}/resolve").text
    assert f'id="item-{item}"' not in page and f'id="handled-{item}"' in page
    page = _post(client, f"/admin/attention/{item}/reopen").text
    assert f'id="item-{item}"' in page

    # A snooze that is not one of the choices is refused with a clear answer.
    page = _post(client, f"/admin/attention/{item}/snooze", until="forever")
    assert page.status_code == 200 and "Choose how long to snooze it" in page.text
    # Ben's item, or none at all: 404 for every action, and nothing changes.
    for action in ("snooze", "reopen", "resolve"):
        for other in (today["ben"], 99999999):
            url = f"/admin/attention/{other}/{action}"
            assert _post(client, url, until="week").status_code == 404
    with services_of(admin_app).sessions() as s:
        ben = s.get(AttentionItem, today["ben"])
        assert ben.snoozed_until is None and ben.resolved_at is None
        actors = set(
            s.scalars(sa.select(AuditEvent.actor).where(AuditEvent.action.like("attention.%")))
        )
        assert actors == {f"facilitator:{world.ana}"}

    # Snoozed until tomorrow, it is back the next morning, 8 am their time.
    _post(client, f"/admin/attention/{item}/snooze", until="tomorrow")
    with services_of(admin_app).sessions() as s:
        until = s.get(AttentionItem, item).snoozed_until
    admin_clock.set(until + timedelta(minutes=1))
    login(client, "ana@example.org")
    assert f'id="item-{item}"' in client.get("/admin/").text  # back the next morning


def test_items_settle_when_their_cause_is_gone(admin_app, world, today):
    services = services_of(admin_app)
    cy = world.shared_participant
    with services.sessions() as s:
        s.get(Program, world.shared_program).sender_number = "+12015550199"
        s.commit()

    def cy_texts(body):
        with services.sessions() as s:
            phone = s.get(Participant, cy).phone
        sms = InboundSms(f"SM{next(_sids):032d}", phone, "+12015550199", body)
        conversation.handle_inbound(services, receive_sms(services, sms))

    # A text from someone texts could not reach: they can be reached after all.
    cy_texts("STOP")
    assert open_items(admin_app, cy) == ["opted_out"]  # the undeliverable one settled
    cy_texts("START")  # opted in again: the STOP item needs nobody
    assert open_items(admin_app, cy) == []

    # The call they asked for, placed and answered.
    cy_texts("CALL")
    assert open_items(admin_app, cy) == ["call_requested"]
    with UnitOfWork(services) as uow:
        call = uow.session.scalar(sa.select(Call).where(Call.participant_id == cy))
        call.status = "ringing"  # placed: Twilio is ringing them
        person = uow.session.get(Participant, cy)
        calls.answered(uow.session, call_id=call.id, call_sid="CA" + "1" * 32,
                       participant=person, now=uow.now)  # fmt: skip
        uow.commit()
    assert open_items(admin_app, cy) == []

    # Closing a participant settles all they had.
    assert open_items(admin_app, world.ana_participant) == ["headsup", "reflection"]
    closure.close(services, world.ana_participant, outcome="restored", actor="facilitator:1")
    assert open_items(admin_app, world.ana_participant) == []
    client = admin_app.test_client()
    login(client, "ana@example.org")
    assert "Nobody needs you right now." in client.get("/admin/").text


def test_quiet_people_are_raised_once_per_spell_and_personas_never(admin_app, world, admin_clock):
    services = services_of(admin_app)
    now = services.now()
    days = timedelta(days=1)
    with services.sessions() as s:
        s.get(Program, world.ana_program).sender_number = NUMBER
        ari = s.get(Participant, world.ana_participant)
        ari.status, ari.consent_at, ari.step = "active", now - 4 * days, 1
        patient = Program(name="Patient program", owner_id=world.ana, options={"quiet_days": 10})
        s.add(patient)
        s.flush()
        people = {
            "dee": Participant(program_id=world.ana_program, name="Dee Invited",
                               phone="+12015550144", created_at=now - 3 * days),
            "fay": Participant(program_id=world.ana_program, name="Fay Agreeing",
                               phone="+12015550155", status="active", step=4,
                               consent_at=now - 20 * days, last_inbound_at=now - 4 * days),
            "gus": Participant(program_id=world.ana_program, name="Gus Living",
                               phone="+12015550166", status="active", step=5,
                               consent_at=now - 30 * days, last_inbound_at=now - 8 * days),
            "hal": Participant(program_id=patient.id, name="Hal Patient",
                               phone="+12015550177", status="active", step=2,
                               consent_at=now - 9 * days, last_inbound_at=now - 4 * days),
            "persona": Participant(program_id=world.ana_program, name="Test persona 2",
                                   phone="+12025550160", status="active",
                                   consent_at=now - 10 * days),
        }  # fmt: skip
        s.add_all(people.values())
        s.flush()
        s.add(Commitment(participant_id=people["fay"].id, text="call Sundays", status="proposed"))
        for who, template, at in (("dee", "invite", 3), ("fay", "commitment_agree_prompt", 3)):
            s.add(Message(direction=Direction.OUT, participant_id=people[who].id,
                          program_id=world.ana_program, template=template, body="...",
                          status=MessageStatus.DELIVERED, created_at=now - at * days))  # fmt: skip
        s.add(CheckIn(participant_id=people["gus"].id, due_at=now - 6 * days,
                      sent_at=now - 6 * days, status="missed"))  # fmt: skip
        s.commit()
        ids = {k: p.id for k, p in people.items()}

    assert quiet.find_quiet(services) == 4
    assert quiet.find_quiet(services) == 0  # once per quiet spell
    with services.sessions() as s:
        raised = dict(
            s.execute(
                sa.select(AttentionItem.participant_id, AttentionItem.detail).where(
                    AttentionItem.kind == "quiet"
                )
            ).all()
        )
    assert set(raised) == {world.ana_participant, ids["dee"], ids["fay"], ids["gus"]}
    assert "no reply for 4 days" in raised[world.ana_participant]
    assert "no YES" in raised[ids["dee"]] and "AGREE" in raised[ids["fay"]]
    assert "check-ins unanswered" in raised[ids["gus"]]

    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/").text
    assert page.count("Gone quiet") == 4 and "Test persona" not in page

    # Ari answers: her quiet item settles; quiet again for 4 days, she is raised again.
    texted(admin_app, world.ana_participant, "It was about the money, mostly.")
    assert "quiet" not in open_items(admin_app, world.ana_participant)
    admin_clock.advance(days=4, hours=1)
    assert quiet.find_quiet(services) >= 1
    assert open_items(admin_app, world.ana_participant).count("quiet") == 1
    # A program that waits longer (10 days) before calling someone quiet: 8 days is not.
    assert open_items(admin_app, ids["hal"]) == []


def _checkin(s, pid, due, answered: bool):
    s.add(CheckIn(participant_id=pid, due_at=due, sent_at=due,
                  status="answered" if answered else "missed",
                  answered_at=due if answered else None))  # fmt: skip


def test_each_program_shows_its_funnel_and_this_weeks_numbers(admin_app, world, admin_clock):
    services = services_of(admin_app)
    now = services.now()
    with services.sessions() as s:
        ari = s.get(Participant, world.ana_participant)
        ari.status, ari.consent_at = "active", now
        for i, step in enumerate((3, 3, 5)):
            s.add(Participant(program_id=world.ana_program, name=f"Step{step} person {i}",
                              phone=f"+1201555020{i}", status="active", step=step,
                              consent_at=now))  # fmt: skip
        s.add(Participant(program_id=world.ana_program, name="Closed one", phone="+12015550210",
                          status="closed", step=5))  # fmt: skip
        persona = Participant(program_id=world.ana_program, name="Test persona 3",
                              phone="+12025550170", status="active", step=5,
                              consent_at=now)  # fmt: skip
        s.add(persona)
        s.flush()
        # This week: 2 sent, 1 answered; last week 2 of 2. The persona's never count.
        week = now - timedelta(days=now.weekday(), hours=now.hour, minutes=now.minute)
        _checkin(s, ari.id, week + timedelta(minutes=5), True)
        _checkin(s, ari.id, week + timedelta(minutes=10), False)
        _checkin(s, ari.id, week - timedelta(days=2), True)
        _checkin(s, ari.id, week - timedelta(days=3), True)
        for d in range(3):
            _checkin(s, persona.id, week + timedelta(minutes=d + 1), False)
        s.commit()
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/").text
    block = page[page.index(f'id="program-{world.ana_program}"') :]
    block = block[: block.index('class="card mb-3 program-trend"', 10)]
    funnel = r'class="funnel-link">([^<]+)</a></th>\s*<td class="text-right funnel-count">(\d+)<'
    rows = dict(re.findall(funnel, block))
    assert rows["1. Naming the misalignment"] == "1"
    assert rows["3. Listening deeply"] == "2" and rows["5. Living the alignment"] == "1"
    assert rows["Closed"] == "1" and rows["Invited"] == "0"
    assert 'participant-count">5</span> participants' in block  # the persona not among them
    # Each step links to the participants list filtered to this program and step.
    link = re.search(r'href="([^"]+)" class="funnel-link">3\. Listening', block).group(1)
    listed = client.get(link.replace("&amp;", "&")).text
    assert "Step3 person 0" in listed and "Step3 person 1" in listed
    assert "Step5 person 2" not in listed and "Ari Ana-side" not in listed
    # This week against last: 1 of 2 answered, 50%, down 50 points.
    assert re.search(r'week-answered">1</span> of <span class="week-sent">2<', block)
    assert "50%" in block and "down 50 points on last week" in block
    # Two weeks of check-ins: the chart is shown. A new program has no empty 12-week axis.
    assert 'class="trend-chart"' in block
    shared = page[page.index(f'id="program-{world.shared_program}"') :]
    assert 'class="trend-chart"' not in shared[:3000]
    assert "appears once the program has two weeks of check-ins" in shared


@pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")
def test_a_coach_snoozes_undoes_resolves_and_listens_on_today_in_a_browser(admin_app, world, today):
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        page.set_viewport_size({"width": 1366, "height": 900})
        sign_in(page, base)
        assert page.locator("h4", has_text="Today").is_visible()
        ari = page.locator(f"#person-{world.ana_participant}")
        headsup = page.locator(f"#item-{today['headsup']}")
        said = headsup.locator("details.attention-said")
        assert "END-OF-TEXT" not in said.locator("summary").inner_text()
        said.locator("summary").click()
        assert "END-OF-TEXT" in said.locator(".full-text").inner_text()
        # Play her reflection: the player loads the audio and starts.
        player = ari.locator("audio.attention-audio")
        played = player.evaluate(
            """el => new Promise(done => {
                 el.addEventListener('loadedmetadata', () => done('loaded'), {once: true});
                 el.addEventListener('error', () => done('error'), {once: true});
                 el.preload = 'auto'; el.load();
               })"""
        )
        assert played == "loaded"
        screenshot(page, "today-desktop")
        # Snooze the HEADSUP until tomorrow, then undo it.
        headsup.locator("button.snooze-tomorrow").click()
        page.wait_for_selector("text=Snoozed: back on Today tomorrow morning.")
        assert page.locator(f"#item-{today['headsup']}").count() == 0
        # Just after an action "Handled" is open, to undo it at once.
        assert page.locator("#handled").get_attribute("open") is not None
        handled = page.locator(f"#handled-{today['headsup']}")
        assert "snoozed until tomorrow 8 am" in handled.inner_text()
        screenshot(page, "today-snoozed")
        handled.locator("button.undo").click()
        page.wait_for_selector("text=Back on Today.")
        assert page.locator(f"#item-{today['headsup']}").is_visible()
        # On a phone: resolve the reflection once heard.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        screenshot(page, "today-phone")
        page.locator(f"#item-{today['reflection_item']} button.resolve").click()
        page.wait_for_selector("text=Marked as resolved.")
        assert page.locator(f"#item-{today['reflection_item']}").count() == 0
        assert page.locator(f"#item-{today['headsup']}").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"Today scrolls sideways on a phone ({width}px)"
        screenshot(page, "today-phone-resolved")
        assert log.csp_violations() == [] and log.errors == []


def test_erasing_a_partner_keeps_the_others_item_without_their_words(admin_app, world, today):
    """A disagreement raised for Ari shows her partner's text; erasing the partner leaves
    Ari's item on Today, without those words."""
    from service.program.erasure import erase_participant

    services = services_of(admin_app)
    with services.sessions() as s:
        cy_text = Message(direction=Direction.IN, participant_id=world.shared_participant,
                          program_id=world.shared_program, body="CY-WORDS",
                          status="processed")  # fmt: skip
        s.add(cy_text)
        s.flush()
        ari = s.get(Participant, world.ana_participant)
        item = flag(s, ari, AttentionKind.DISAGREEMENT, "self-report kept, partner says missed",
                    services.now(), message_id=cy_text.id)  # fmt: skip
        s.commit()
        item_id = item.id
    client = admin_app.test_client()
    login(client, "ana@example.org")
    assert "CY-WORDS" in client.get("/admin/").text
    erase_participant(services, world.shared_participant, actor=f"facilitator:{world.ana}")
    page = client.get("/admin/").text
    assert f'id="item-{item_id}"' in page and "CY-WORDS" not in page
    assert "partner says missed" in page


def test_at_a_large_practice_today_shows_the_most_urgent_and_says_how_many_wait(admin_app, world):
    services = services_of(admin_app)
    now = services.now()
    with services.sessions() as s:
        ari = s.get(Participant, world.ana_participant)
        for i in range(60):
            flag(s, ari, AttentionKind.PAUSED, f"paused {i}", now - timedelta(minutes=i))
        flag(s, ari, AttentionKind.OPTED_OUT, "texted STOP", now - timedelta(days=3))
        s.commit()
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/").text
    assert 'id="attention-count">61<' in page
    assert "The 50 most urgent of 61 are shown" in page
    assert page.count('class="attention-item ') == 50
    assert "texted STOP" in page  # the oldest, but the most urgent
