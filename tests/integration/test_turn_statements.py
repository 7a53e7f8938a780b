"""A turn is a handful of statements: the evening wave's replies depend on it.

One worker process turns texts as fast as its statements go (each a round trip to the
database, and work for the ORM). Before the batch claim counted attempts and the turn
loaded the enrolment, program and owner in one query, a story text took 19 and a check-in
answer 21; then 8 and 14. Now a turn's texts go in one INSERT that does not flush first, its
reads do not flush either, and a check-in answer neither reads back its commitments nor
itself: every change is flushed once, at the commit. These budgets keep them there. A batch
of turns reads the live webhook endpoints once for all its texts, not once for each.
"""

from __future__ import annotations

import sqlalchemy as sa

from service.messaging.inbound import InboundSms, receive_sms
from service.models import Message
from service.program import conversation, tick
from tests.support.factories import PROGRAM_NUMBER, due_population, make_participant, make_program
from tests.support.sql import statements


def _turn(services, sid: str, phone: str, body: str) -> tuple[str, list[str]]:
    message_id = receive_sms(services, InboundSms(sid, phone, PROGRAM_NUMBER, body))
    with statements(services.engine) as seen:
        # As a batch job turns it: its attempt was counted when the batch was claimed.
        outcome = conversation.handle_inbound(services, message_id, replies=[], counted=True)
    return outcome, seen


def test_a_story_text_is_turned_in_seven_statements(services):
    program = make_program(services)
    person = make_participant(services, program, phone="+12015550177", invite=False)
    assert _turn(services, "SM" + "1" * 32, person.phone, "Yes")[0] == "consent"
    outcome, seen = _turn(
        services, "SM" + "2" * 32, person.phone, "I moved the launch and told nobody."
    )
    assert outcome == "answer"
    # Six, and the read of the live webhook endpoints (a statement is an event).
    assert len(seen) <= 7, seen
    # Its two replies (thanks, the next question) are stored, to be sent by the caller.
    with services.sessions() as session:
        replies = session.scalars(
            sa.select(Message.template).where(Message.direction == "out").order_by(Message.id)
        ).all()
    assert replies[-2:] == ["ack_statement", "step1_emotions"]


def test_a_batch_of_turns_reads_the_live_webhook_endpoints_once(services):
    program = make_program(services)
    people = [
        make_participant(services, program, phone=f"+1201555018{i}", invite=False) for i in range(3)
    ]
    for i, person in enumerate(people):
        receive_sms(services, InboundSms(f"SM{i:032d}", person.phone, PROGRAM_NUMBER, "Yes"))
    with statements(services.engine) as seen:
        outcomes = conversation.turn_waiting(services)
    assert outcomes == {"consent": 3}
    assert len([sql for sql in seen if sql.startswith("SELECT webhookendpoint.")]) == 1, seen


def test_a_check_in_answer_is_turned_in_eleven_statements(services):
    due_population(services, 1)
    tick.tick_until_done(services)
    with services.sessions() as session:
        phone = session.scalar(sa.select(Message.to_number).where(Message.template == "checkin"))
    outcome, seen = _turn(services, "SM" + "3" * 32, phone, "Y")
    assert outcome == "checkin"
    # Ten, and one more since an answer is an event: the live webhook endpoints are read
    # (once per turn, however many events it makes).
    assert len(seen) <= 11, seen
