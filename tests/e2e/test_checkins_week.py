"""A week of check-ins for a linked pair, hour by hour on a fake clock.

Real Redis and RQ, the real twilio client against the local Twilio API: answers, a nudge,
misses, the trust ladder, a two-sided disagreement, then closure.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from jobs import tasks
from service.core.rotation import FAMILIES
from service.core.texts import TEMPLATES
from service.messaging import delivery
from service.models import AttentionItem, CheckIn, CheckInAnswer, Participant
from service.program import closure, commitments, scores
from service.unit_of_work import UnitOfWork
from tests.support.factories import ANA, BEN, enter_step5, make_pair, make_program, sms_form
from tests.support.twilio import local_gateway


@pytest.fixture
def gateway(local_twilio):
    """This module's texts and calls go to the local Twilio API."""
    return local_gateway(local_twilio)


NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
# How each wording of the check-in and its nudge begins (the message bank rotates them).
SELF_OPENERS = tuple(TEMPLATES[k]["en"].split("\n")[0] for k in FAMILIES["checkin"])
NUDGE_OPENERS = tuple(TEMPLATES[k]["en"].split("\n")[0] for k in FAMILIES["checkin_nudge"])
_sids = itertools.count(1)


@pytest.fixture
def pair(services, run_jobs, clock):
    program = make_program(
        services,
        cadence="daily@19:00",
        options={
            "adaptive_cadence": True,
            "ladder_step": 2,
            "two_sided": True,
            "max_nudges": 1,
            "nudge_delay_minutes": 60,
            "milestones": [2],
        },
    )
    ana, ben = make_pair(services, program)
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        a, b = session.get(Participant, ana.id), session.get(Participant, ben.id)
        for person in (a, b):
            person.status, person.consent_at, person.step = "active", now, 4
            person.share_with_partner = True
        commitments.add_commitment(
            session, a, "Say so by Friday if a meeting can't happen", shared=True, now=now
        )
        commitments.add_commitment(session, a, "Walk together on Sunday", now=now)
        commitments.agree(session, a, now=now)
        commitments.agree(session, b, now=now)
        enter_step5(uow, a)
        enter_step5(uow, b)
        uow.commit()
    run_jobs()
    return ana, ben


def test_a_week_of_checkins(app, services, pair, clock, local_twilio, twilio_post, run_jobs):
    ana, ben = pair
    # Starts Tuesday 3 March 2026, 10:00 in New York. Who answers what, by local day.
    script = {
        (ANA, 3, "self"): "Y",
        (ANA, 4, "self"): "yes",  # streak 2: milestone, and the ladder steps down
        (ANA, 6, "self"): "Y N still working on Sunday walks",  # back to daily
        (BEN, 3, "self"): None,  # Ben misses Tuesday: nudged once, then missed
        (BEN, 4, "self"): "Y",
        (BEN, 5, "self"): "maybe?",  # ambiguous: one clarifying question
    }
    for day in range(7, 12):
        script[(ANA, day, "self")] = "Y"
        script[(BEN, day, "self")] = "👍"
        script[(ANA, day, "partner")] = "N"  # Ana disagrees with Ben's own report
    zones = {ANA: NY, BEN: CHI}
    seen = 0
    log = []
    end = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    while clock() < end:
        clock.advance(minutes=30)
        tasks.tick()
        delivery.sweep(services)
        run_jobs()
        arrived = local_twilio.messages()[seen:]
        seen += len(arrived)
        for message in arrived:
            to, body = message["to"], message["body"]
            local = clock().astimezone(zones[to])
            assert 8 <= local.hour < 21, f"text at {local} local"
            log.append((to, local.day, body.split(".")[0][:20]))
            kind = (
                "self"
                if body.startswith(SELF_OPENERS)
                else "partner"
                if body.startswith("Did ") and " keep these?" in body
                else None
            )
            reply = script.get((to, local.day, kind)) if kind else None
            if body.startswith("Sorry, we didn't"):
                reply = "P"  # Ben answers the clarifying question properly
            if reply:
                form = sms_form(reply, sid=f"SM{next(_sids):032d}", from_=to)
                assert twilio_post("/twilio/sms", form).status_code == 200
                run_jobs()

    with services.sessions() as session:

        def checkin_rows(pid, kind="self"):
            return session.exec(
                select(CheckIn)
                .where(CheckIn.participant_id == pid, CheckIn.kind == kind)
                .order_by(CheckIn.due_at)
            ).all()

        ana_rows = checkin_rows(ana.id)
        ben_rows = checkin_rows(ben.id)
        # Never two check-ins on one local day, each sent once.
        for rows, zone in ((ana_rows, NY), (ben_rows, CHI)):
            days = [r.due_at.astimezone(zone).date() for r in rows]
            assert len(days) == len(set(days))
        sent_bodies = [m["body"] for m in local_twilio.messages()]
        # Every outbox row reached the API exactly once.
        from service.models import Message

        sids = session.exec(select(Message.twilio_sid).where(Message.direction == "out")).all()
        sids = [s for s in sids if s]
        assert sorted(sids) == sorted(m["sid"] for m in local_twilio.messages())

        # Ana: two kept days → streak 2 → milestone and the ladder steps down to every 2 days.
        assert [r.status for r in ana_rows[:2]] == ["answered", "answered"]
        assert any("2 check-ins in a row" in b for b in sent_bodies)
        gaps = [(b.due_at - a.due_at).days for a, b in itertools.pairwise(ana_rows)]
        assert 2 in gaps, f"trust ladder never stepped down: {gaps}"
        # Her partly-kept answer ends the streak and brings back the daily cadence.
        partly = next(r for r in ana_rows if r.answer_raw and r.answer_raw.startswith("Y N"))
        assert partly.note == "still working on Sunday walks"
        after = [r for r in ana_rows if r.due_at > partly.due_at]
        assert after and (after[0].due_at - partly.due_at) <= timedelta(days=1, hours=1)

        # Ben: Monday unanswered → one nudge, then missed; the clarifying question once.
        monday = ben_rows[0]
        assert monday.status == "missed" and monday.nudges_sent == 1
        assert sum(b.startswith(NUDGE_OPENERS) for b in sent_bodies) >= 1
        clarified = next(r for r in ben_rows if r.clarified)
        assert clarified.status == "answered"
        results = session.exec(
            select(CheckInAnswer.result).where(CheckInAnswer.checkin_id == clarified.id)
        ).all()
        assert results == ["partly"]

        # Two-sided: Ana was asked about Ben's shared commitment and disagreed.
        partner_rows = checkin_rows(ana.id, "partner")
        assert partner_rows and partner_rows[0].status == "answered"
        kinds = [i.kind for i in session.exec(select(AttentionItem))]
        assert "disagreement" in kinds
        # Today shows the words it came in: Ana's own text, kept with Ben's item.
        [item] = session.exec(select(AttentionItem).where(AttentionItem.kind == "disagreement"))
        said = session.get(Message, item.message_id)
        assert item.participant_id == ben.id and said.from_number == ana.phone

        ratio = scores.kept_ratio(session, session.get(Participant, ben.id), clock(), 7)
        assert ratio is not None and 0 < ratio < 1

    # Closure: the closing text goes once and nothing is scheduled for Ana any more.
    closing = closure.close(services, ana.id, outcome="restored", actor="facilitator:1")
    closure.close(services, ana.id, outcome="restored", actor="facilitator:1")
    clock.set(datetime(2026, 3, 11, 16, 0, tzinfo=UTC))  # 12:00 in New York
    delivery.sweep(services)
    run_jobs()
    to_ana = [m["body"] for m in local_twilio.messages() if m["to"] == ANA]
    assert to_ana[-1] == closing.body and to_ana.count(closing.body) == 1
    count = len(to_ana)
    for _ in range(48 * 2):
        clock.advance(minutes=30)
        tasks.tick()
        delivery.sweep(services)
        run_jobs()
    assert len([m for m in local_twilio.messages() if m["to"] == ANA]) == count
    with services.sessions() as session:
        p = session.get(Participant, ana.id)
        assert p.status == "closed" and p.next_checkin_at is None
