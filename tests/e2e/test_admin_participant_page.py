"""The participant page, made for acting: the header says what they are asked and since
when (their time), the thread holds the system's lines among the texts with each text's
fate in words, the check-in history has each commitment's result, attention items resolve
here, and commitments are retired, edited and reordered — which the check-ins follow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from service.core.enums import CommitmentStatus, Prompt
from service.models import (
    AttentionItem,
    AuditEvent,
    Call,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
)
from service.program import tick
from service.unit_of_work import UnitOfWork
from tests.support.admin_walk import TOKEN, login
from tests.support.factories import advance, enter_step5
from tests.support.sql import statements

NY = "America/New_York"
# Tue 3 Mar 2026, 3 pm UTC: 10 am in New York.
NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
THREE = [
    ("Call Sam on Sundays", "Call Sam"),
    ("Walk after dinner", "Walk"),
    ("Tell Dana by Thursday if I cannot make it", "Tell Dana"),
]


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def services_of(app):
    return app.extensions["realign"]


def page_of(client, pid, **args):
    query = "&".join(f"{k}={v}" for k, v in {"id": pid, **args}.items())
    return client.get(f"/admin/participants/details/?{query}")


def words(html: str) -> str:
    """What the coach reads: the page's text without its tags."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" :", ":").replace(" ,", ",")


def token(page: str) -> str:
    return TOKEN.search(page).group(1)


def post(client, pid, path, **form):
    page = page_of(client, pid).text
    return client.post(
        f"/admin/participants/{path}/", data={"csrf_token": token(page), "id": pid, **form}
    )


def living(app, pid, commitments=THREE) -> list[int]:
    """They live in New York, their commitments agreed and live: step 5 begins."""
    services = services_of(app)
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, pid)
        p.timezone, p.step, p.status, p.consent_at = NY, 4, "active", NOW - timedelta(days=9)
        made = []
        for place, (text, label) in enumerate(commitments):
            c = Commitment(
                participant_id=pid,
                text=text,
                label=label,
                position=place,
                status="active",
                agreed_text=text,
                agreed_at=NOW,
                live_at=NOW,
            )
            uow.session.add(c)
            made.append(c)
        uow.session.flush()
        enter_step5(uow, p)
        uow.commit()
        return [c.id for c in made]


def test_the_header_says_what_they_are_asked_and_since_when_in_their_time(
    admin_app, admin_clock, client, world
):
    admin_clock.set(NOW)
    with services_of(admin_app).sessions() as s:
        p = s.get(Participant, world.shared_participant)
        p.timezone, p.prompt = NY, Prompt.WHAT_HAPPENED.value
        p.prompt_due_at = datetime(2026, 3, 3, 0, 2, tzinfo=UTC)  # Mon 7:02 pm in New York
        s.commit()
    login(client, "ana@example.org")
    page = page_of(client, world.shared_participant).text
    headline = re.search(r'id="participant-headline">(.*?)</p>', page, re.S).group(1)
    assert "Asked what happened — since" in headline
    assert ">yesterday 7:02 pm</time>, their time" in headline
    assert 'title="2026-03-03 00:02 UTC"' in headline  # the exact instant in a tooltip
    assert "times are theirs (New York)" in page

    with services_of(admin_app).sessions() as s:
        s.get(Participant, world.shared_participant).status = "paused"
        s.get(Participant, world.shared_participant).paused_at = NOW - timedelta(hours=1)
        s.commit()
    page = page_of(client, world.shared_participant).text
    assert "Paused since <time" in page and "today 9 am</time>, their time" in page


def test_step_five_shows_the_next_check_in_in_their_time(admin_app, admin_clock, client, world):
    admin_clock.set(NOW)
    living(admin_app, world.shared_participant)
    login(client, "ana@example.org")
    page = page_of(client, world.shared_participant).text
    assert "Next check-in <time" in page and "today 7 pm</time>, their time" in page


def test_the_thread_holds_step_changes_calls_and_check_in_results_among_the_texts(
    admin_app, admin_clock, client, world
):
    admin_clock.set(NOW)
    services = services_of(admin_app)
    pid = world.shared_participant
    with services.sessions() as s:
        s.get(Participant, pid).timezone = NY
        s.add(
            Message(
                direction="in",
                participant_id=pid,
                body="It was the launch.",
                created_at=NOW - timedelta(hours=3),
                status="processed",
            )
        )
        s.add(
            Message(
                direction="out",
                participant_id=pid,
                body="Thank you.",
                status="delivered",
                created_at=NOW - timedelta(hours=3) + timedelta(seconds=2),
            )
        )
        s.add(
            Message(
                direction="out",
                participant_id=pid,
                body="Still there?",
                status="undelivered",
                error_code=30003,
                created_at=NOW - timedelta(hours=2),
            )
        )
        s.add(
            Call(
                participant_id=pid,
                direction="out",
                status="no-answer",
                created_at=NOW - timedelta(hours=1),
            )
        )
        s.commit()
    admin_clock.set(NOW - timedelta(minutes=30))
    advance(services, pid, actor=f"facilitator:{world.ana}")  # step 1 -> 2, by Ana
    admin_clock.set(NOW)
    login(client, "ana@example.org")
    page = page_of(client, pid).text
    thread = page[page.index('id="thread"') :]
    step = thread.index("Moved to step 2. Taking responsibility · by Ana Coach")
    missed = thread.index("Call missed (no answer)")
    failed = thread.index("not delivered: their phone was off or out of reach")
    delivered = thread.index('delivery-delivered">delivered<')
    assert step < missed < failed < delivered  # newest first, the lines among the texts
    assert "step1_what_happened" not in page and "no-answer" not in page.replace(
        "thread-call_missed", ""
    )


def test_the_thread_page_reads_the_same_few_statements_however_long_the_history(
    admin_app, admin_clock, client, world
):
    admin_clock.set(NOW)
    services = services_of(admin_app)
    pid = world.shared_participant
    ids = living(admin_app, pid, THREE[:1])

    def add(n: int) -> None:
        with services.sessions() as s:
            start = s.scalar(sa.select(sa.func.count()).select_from(Message))
            for i in range(start, start + n):
                at = NOW - timedelta(days=40) + timedelta(minutes=10 * i)
                s.add(Message(direction="in", participant_id=pid, body=f"t{i}", created_at=at))
                s.add(Call(participant_id=pid, direction="out", status="completed", created_at=at))
                checkin = CheckIn(
                    participant_id=pid,
                    due_at=at,
                    status="answered",
                    answered_at=at,
                    commitment_ids=ids,
                )
                s.add(checkin)
                s.flush()
                s.add(CheckInAnswer(checkin_id=checkin.id, commitment_id=ids[0], result="kept"))
            s.commit()

    login(client, "ana@example.org")
    add(5)
    with statements(services.engine) as few:
        page = page_of(client, pid).text
    assert "Call answered" in page and "Check-in answered: Call Sam: kept" in words(page)
    add(60)
    with statements(services.engine) as many:
        page = page_of(client, pid).text
    assert page.count('class="thread-line thread-call_answered"') >= 50
    assert len(many) == len(few), (len(few), len(many))


def test_the_check_in_history_says_each_commitments_result_in_their_time(
    admin_app, admin_clock, client, world
):
    admin_clock.set(NOW)
    pid = world.shared_participant
    ids = living(admin_app, pid, THREE[:2])
    with services_of(admin_app).sessions() as s:
        answered = CheckIn(
            participant_id=pid,
            due_at=datetime(2026, 3, 3, 0, 0, tzinfo=UTC),
            status="answered",
            commitment_ids=ids,
            note="Sam was away.",
        )
        missed = CheckIn(
            participant_id=pid,
            due_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
            status="missed",
            commitment_ids=ids,
        )
        s.add_all([answered, missed])
        s.flush()
        s.add(CheckInAnswer(checkin_id=answered.id, commitment_id=ids[0], result="partly"))
        s.add(CheckInAnswer(checkin_id=answered.id, commitment_id=ids[1], result="kept"))
        s.commit()
    login(client, "ana@example.org")
    page = page_of(client, pid).text
    table = page[page.index('id="checkin-history"') :]
    table = table[: table.index("</table>")]
    assert "yesterday 7 pm</time>" in table and "Sun 1 Mar, 7 pm</time>" in table
    assert "Call Sam: partly, Walk: kept Sam was away." in words(table)
    assert "Call Sam: no answer, Walk: no answer" in words(table) and "UTC</" not in table


def test_commitments_are_reordered_retired_and_the_check_in_follows(
    admin_app, admin_clock, client, world
):
    admin_clock.set(NOW)
    services = services_of(admin_app)
    pid = world.shared_participant
    call, walk, dana = living(admin_app, pid)
    login(client, "ana@example.org")
    assert post(client, pid, "commitment/move", commitment=walk, to="up").status_code == 302
    done = post(client, pid, "commitment/retire", commitment=dana)
    assert done.status_code == 302 and done.location.endswith("#commitments")
    page = page_of(client, pid).text
    assert "Retired: check-ins no longer ask about it. Its history stays." in page
    listed = page[page.index('id="commitment-list"') : page.index('id="retired-commitments"')]
    assert listed.index("Walk after dinner") < listed.index("Call Sam on Sundays")
    assert "Tell Dana" not in listed
    assert "Tell Dana by Thursday" in page[page.index('id="retired-commitments"') :]

    with services.sessions() as s:
        due = s.get(Participant, pid).next_checkin_at
        actors = set(
            s.scalars(
                sa.select(AuditEvent.actor).where(
                    AuditEvent.action.in_(("retire_commitment", "move_commitment"))
                )
            )
        )
    assert actors == {f"facilitator:{world.ana}"}
    admin_clock.set(due)
    tick.tick(services)
    with services.sessions() as s:
        checkin = s.scalars(sa.select(CheckIn).where(CheckIn.participant_id == pid)).one()
        text = (
            s.get(Message, checkin.message_id)
            or s.scalars(sa.select(Message).where(Message.template.like("checkin%"))).one()
        )
    login(client, "ana@example.org")  # hours later: signed in again
    assert checkin.commitment_ids == [walk, call]  # in the new order, the retired one gone
    assert text.body.index("Walk") < text.body.index("Call Sam") and "Dana" not in text.body
    page = page_of(client, pid).text
    assert "Commitment retired: Tell Dana · by Ana Coach" in words(page)


def test_editing_wording_asks_for_agreement_again_and_a_label_keeps_it(
    admin_app, admin_clock, client, world
):
    admin_clock.set(NOW)
    services = services_of(admin_app)
    pid = world.shared_participant
    call, walk, _ = living(admin_app, pid)
    login(client, "ana@example.org")
    relabel = post(
        client,
        pid,
        "commitment/edit",
        commitment=call,
        text="Call Sam on Sundays",
        label="Ring Sam",
        sign="",
    )
    assert relabel.status_code == 302
    page = page_of(client, pid).text
    assert "Their agreement stands" in page
    with services.sessions() as s:
        c = s.get(Commitment, call)
        assert (c.label, c.status) == ("Ring Sam", CommitmentStatus.ACTIVE)

    reword = post(
        client,
        pid,
        "commitment/edit",
        commitment=walk,
        text="Walk after lunch",
        label="",
        sign="Ten walks a fortnight",
    )
    assert reword.status_code == 302
    assert "asked to AGREE to it again" in page_of(client, pid).text
    with services.sessions() as s:
        c = s.get(Commitment, walk)
        assert (c.text, c.status) == ("Walk after lunch", CommitmentStatus.PROPOSED)
        asked = s.scalars(
            sa.select(Message.body).where(
                Message.participant_id == pid, Message.template == "commitments_list"
            )
        ).all()
    assert any("Walk after lunch" in body for body in asked)


FOUR = [
    ("Call Sam on Sundays", "Call Sam"),
    ("Walk after dinner", "Walk after dinner each evening"),
    ("Tell Dana by Thursday if I cannot make it", "Tell Dana by Thursday, always"),
    ("Share the weekly numbers with the team", "Share the weekly numbers"),
]


def test_a_label_that_would_push_the_check_in_past_one_text_is_refused_with_the_count(
    admin_app, admin_clock, client, world
):
    admin_clock.set(NOW)
    pid = world.shared_participant
    call, *_ = living(admin_app, pid, FOUR)
    login(client, "ana@example.org")
    page = page_of(client, pid).text
    assert re.search(r"Their longest daily text with these labels: \d+ of 160 characters", page)
    too_long = post(
        client, pid, "commitment/edit", commitment=call, text="Call Sam on Sundays",
        label="Ring Sam on Sundays, every week", sign="",
    )  # fmt: skip
    assert too_long.status_code == 422
    assert "With these labels the check-in is 178 characters (GSM-7)" in too_long.text
    assert "more than one text message (160). Shorten a label." in too_long.text
    assert 'value="Ring Sam on Sundays, every week"' in too_long.text  # what they typed stays
    assert "31/32" in too_long.text
    with services_of(admin_app).sessions() as s:
        assert s.get(Commitment, call).label == "Call Sam"


def test_only_the_programs_facilitators_change_its_commitments(admin_app, client, world):
    with services_of(admin_app).sessions() as s:
        c = Commitment(participant_id=world.ana_participant, text="Be on time", status="active")
        s.add(c)
        s.commit()
        cid = c.id
    login(client, "ben@example.org")
    shared = page_of(client, world.shared_participant).text
    for path, extra in (
        ("commitment/retire", {}),
        ("commitment/move", {"to": "up"}),
        ("commitment/edit", {"text": "x"}),
    ):
        data = {"csrf_token": token(shared), "id": world.ana_participant, "commitment": cid}
        assert (
            client.post(f"/admin/participants/{path}/", data={**data, **extra}).status_code == 404
        )
        # Nor through a participant they do see: the commitment is not theirs.
        data["id"] = world.shared_participant
        assert (
            client.post(f"/admin/participants/{path}/", data={**data, **extra}).status_code == 404
        )
    with services_of(admin_app).sessions() as s:
        assert s.get(Commitment, cid).status == "active"


def test_attention_items_resolve_from_the_participant_page(admin_app, admin_clock, client, world):
    admin_clock.set(NOW)
    with services_of(admin_app).sessions() as s:
        item = AttentionItem(
            participant_id=world.shared_participant,
            kind="headsup",
            program_id=world.shared_program,
            detail="a promise is at risk",
            created_at=NOW - timedelta(hours=1),
        )
        s.add(item)
        s.commit()
        item_id = item.id
    login(client, "ana@example.org")
    page = page_of(client, world.shared_participant).text
    assert "A promise is at risk" in page and f'id="resolve-{item_id}"' in page
    here = f"/admin/participants/details/?id={world.shared_participant}"
    done = client.post(
        f"/admin/attention/{item_id}/resolve", data={"csrf_token": token(page), "next": here}
    )
    assert done.status_code == 302 and done.location.endswith(here)
    page = client.get(here).text
    assert "Marked as resolved" in page and f'id="resolve-{item_id}"' not in page
    # Another site's address is never where it goes back to.
    away = client.post(f"/admin/attention/{item_id}/reopen", data={"csrf_token": token(page)})
    assert away.status_code == 302
    elsewhere = client.post(
        f"/admin/attention/{item_id}/resolve",
        data={"csrf_token": token(page), "next": "//evil.example/"},
    )
    assert elsewhere.location.endswith("/admin/")
