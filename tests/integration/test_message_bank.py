"""The message bank through the outbox: a participant's repeated texts change wording each
time, a program's own wording of a variant is used, and other people keep their own turn."""

from __future__ import annotations

from service.core.texts import TEMPLATES
from service.messaging import outbox
from service.models import Participant, Program
from service.unit_of_work import UnitOfWork
from tests.support.factories import BEN, make_participant, make_program


def _ack(services, person_id, n):
    with UnitOfWork(services) as uow:
        person = uow.session.get(Participant, person_id)
        message = outbox.queue_text(uow, person, "ack_statement", key=f"ack:{person_id}:{n}")
        uow.commit()
        return message.template, message.body


def test_acknowledgements_rotate_per_participant_and_use_the_programs_wording(services):
    program = make_program(services)
    with services.sessions() as session:
        stored = session.get(Program, program.id)
        stored.text_overrides = {"ack_statement_3": {"en": "Saved, with thanks."}}
        session.commit()
    ana = make_participant(services, program)
    ben = make_participant(services, program, name="Ben Okafor", phone=BEN, language="es")
    sent = [_ack(services, ana.id, n) for n in range(6)]
    assert {template for template, _ in sent} == {"ack_statement"}  # one kind of text
    bodies = [body for _, body in sent]
    assert bodies[:4] == [
        TEMPLATES["ack_statement"]["en"],
        TEMPLATES["ack_statement_2"]["en"],
        "Saved, with thanks.",
        TEMPLATES["ack_statement_4"]["en"],
    ]
    assert all(a != b for a, b in zip(bodies, bodies[1:], strict=False))
    # Ben's turn is his own, in his language.
    assert _ack(services, ben.id, 0)[1] == TEMPLATES["ack_statement"]["es"]
    with services.sessions() as session:
        assert session.get(Participant, ana.id).text_turns == {"ack_statement": 1}
