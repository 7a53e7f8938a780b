"""Inbound texts are turned in batches: one job for many texts, replies sent by that job,
one person's texts in order, and a text left half-turned picked up again."""

from __future__ import annotations

import time

import sqlalchemy as sa
from rq import Queue, SimpleWorker

from service.infra.queue import Lane
from service.infra.ratelimit import SenderRateLimit
from service.models import Message
from service.program import conversation, tick
from tests.support.factories import (
    due_population,
    inbound,
    make_participant,
    make_program,
    outbound,
    sms_form,
)
from tests.support.queues import lane_queues

PHONES = [f"+1201555{i:04d}" for i in range(9000, 9012)]


def _texts(twilio_post, phones, body="Yes", start=0):
    for i, phone in enumerate(phones, start=start):
        response = twilio_post("/twilio/sms", sms_form(body, sid=f"SM{i:032d}", from_=phone))
        assert response.status_code == 200


def test_many_texts_one_job_and_the_replies_leave_with_it(
    services, twilio_post, redis_conn, gateway, clock
):
    program = make_program(services)
    for i, phone in enumerate(PHONES):
        make_participant(services, program, name=f"P{i}", phone=phone, invite=False)
    # The number's cap on a clock that stands still: its slots do not depend on speed.
    mps, frozen = services.settings.sender_mps, time.time()
    services.rate_limit = SenderRateLimit(redis_conn, mps, clock=lambda: frozen)
    _texts(twilio_post, PHONES)
    turns = Queue(Lane.TURNS.value, connection=redis_conn)
    assert [j.func_name for j in turns.jobs] == ["jobs.tasks.turn_inbound"]  # not 12

    SimpleWorker(lane_queues(redis_conn), connection=redis_conn).work(burst=True, max_jobs=1)
    # That one job turned all twelve and sent their replies, as many as the number's cap
    # lets go at once (SENDER_MPS); the rest wait for their slots on the turns lane.
    assert all(m.status == "processed" for m in inbound(services))
    assert len(gateway.sent) == mps < 12  # (two replies each: thanks, then step 1)
    assert sum(q.count for q in lane_queues(redis_conn)) == 0
    waiting = [turns.fetch_job(i) for i in turns.scheduled_job_registry.get_job_ids()]
    assert {j.func_name for j in waiting} == {"jobs.tasks.send_messages"}
    clock.advance(seconds=3)  # their slots have come
    for job in waiting:
        job.perform()
    replies = [m for m in outbound(services) if m.participant_id is not None]
    assert len(gateway.sent) == len(replies) == 24
    assert {sent["to"] for sent in gateway.sent} == set(PHONES)


def test_a_reply_goes_before_a_wave_of_check_ins(services, twilio_post, redis_conn, gateway):
    due_population(services, 30)
    tick.tick_until_done(services, limit=10)  # three send batches wait on the bulk lane
    program = make_program(services, email="other@example.org", name="Other")
    make_participant(services, program, phone=PHONES[0], invite=False)
    _texts(twilio_post, PHONES[:1])

    SimpleWorker(lane_queues(redis_conn), connection=redis_conn).work(burst=True, max_jobs=1)
    # The worker took the turn first: the reply is out, no check-in yet.
    assert [sent["to"] for sent in gateway.sent] == [PHONES[0]] * len(gateway.sent)
    assert gateway.sent


def test_one_persons_texts_are_never_taken_by_two_jobs_at_once(services, twilio_post):
    program = make_program(services)
    ana, ben = PHONES[:2]
    for phone in (ana, ben):
        make_participant(services, program, phone=phone, invite=False)
    _texts(twilio_post, [ana, ana, ben])
    first = conversation.claim_waiting(services, 1)  # Ana's first text
    second = conversation.claim_waiting(services, 5)  # another job meanwhile
    by_id = {m.id: m.from_number for m in inbound(services)}
    assert [by_id[i] for i in first] == [ana]
    assert [by_id[i] for i in second] == [ben]  # Ana's second waits for her first


def test_a_text_a_lost_job_held_is_given_back_and_turned(services, twilio_post, clock, gateway):
    program = make_program(services)
    make_participant(services, program, phone=PHONES[0], invite=False)
    _texts(twilio_post, PHONES[:1])
    [held] = conversation.claim_waiting(services, 5)  # and the job dies here
    assert conversation.turn_waiting(services) == {}  # held: nobody else takes it
    clock.advance(minutes=2)
    assert conversation.sweep_inbound(services) == 1
    assert sum(conversation.turn_waiting(services).values()) == 1
    with services.sessions() as session:
        status = session.execute(sa.select(Message.status).where(Message.id == held)).scalar()
    assert status == "processed"
    assert gateway.sent and {sent["to"] for sent in gateway.sent} == {PHONES[0]}


STORY = ("Yes", "I moved the launch and told nobody.", "Ashamed, and worried about the team.")


def _replies_of(services, phone) -> list[str]:
    return [m.template for m in outbound(services, to=phone)]


def test_lanes_turn_texts_side_by_side_and_each_persons_in_order(services, twilio_post):
    program = make_program(services)
    alone, *together = PHONES[:7]
    for phone in PHONES[:7]:
        make_participant(services, program, phone=phone, invite=False)
    # One person's three texts, turned one at a time: what each of the others should get.
    for n, body in enumerate(STORY):
        _texts(twilio_post, [alone], body, start=100 + n)
        conversation.turn_waiting(services)
    expected = _replies_of(services, alone)
    assert "ack_statement" in expected and expected[-1] != expected[0]

    # Six people's three texts each, all waiting, turned by one job in two lanes (one where
    # the database takes one writer at a time), every number's texts in one lane.
    services.settings = services.settings.model_copy(update={"turn_lanes": 2})
    for n, body in enumerate(STORY):
        _texts(twilio_post, together, body, start=200 + 10 * n)
    claimed = [(m.id, m.from_number) for m in inbound(services) if m.status == "received"]
    lanes = conversation._by_lane(claimed, 2)
    assert all(lanes), "the six numbers fall in both lanes"
    numbers = dict(claimed)
    assert not {numbers[i] for i in lanes[0]} & {numbers[i] for i in lanes[1]}

    assert conversation.turn_waiting(services) == {"consent": 6, "answer": 12}
    assert all(m.status == "processed" for m in inbound(services))
    for phone in together:
        assert _replies_of(services, phone) == expected, phone
