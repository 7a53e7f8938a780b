"""Small builders for test data, going through the same service functions as the app."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from service.core import steps
from service.models import Facilitator, Message, Participant
from service.program import actions, apply, commitments
from service.program.accounts import create_facilitator
from service.program.enrollment import enroll, link_partners
from service.program.matching import defaults_of
from service.program.programs import create_program
from service.unit_of_work import UnitOfWork

PROGRAM_NUMBER = "+12015550100"
ANA = "+12015550123"
BEN = "+12015550124"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when


def make_program(services, *, email="coach@example.org", name="Founders Reset", **kwargs):
    """A program of the coach with `email` (who is made on first use)."""
    now = services.now()
    with services.sessions() as session:
        coach = session.exec(select(Facilitator).where(Facilitator.email == email)).first()
        coach = coach or create_facilitator(
            session, email, "Dana Coach", "a-long-password-1", contact="dana@example.org"
        )
        kwargs.setdefault("timezone", "America/New_York")
        kwargs.setdefault("sender_number", PROGRAM_NUMBER)
        kwargs.setdefault("defaults", defaults_of(services.settings))
        program = create_program(session, coach, name=name, now=now, **kwargs)
        session.commit()
        return program


def make_participant(
    services,
    program,
    *,
    name="Ana Reyes",
    phone=ANA,
    tz="America/New_York",
    language="en",
    invite=True,
):
    with UnitOfWork(services) as uow:
        participant = enroll(
            uow, program, name=name, phone=phone, timezone=tz, language=language, invite=invite
        )
        uow.commit()
    return participant


def make_pair(services, program):
    ana = make_participant(services, program)
    ben = make_participant(services, program, name="Ben Okafor", phone=BEN, tz="America/Chicago")
    with services.sessions() as session:
        a, b = session.get(Participant, ana.id), session.get(Participant, ben.id)
        link_partners(session, a, b, now=services.now())
        session.commit()
        return a, b


def get(services, model, id_):
    with services.sessions() as session:
        return session.get(model, id_)


def outbound(services, participant_id=None, to=None) -> list[Message]:
    with services.sessions() as session:
        query = select(Message).where(Message.direction == "out").order_by(Message.id)
        if participant_id is not None:
            query = query.where(Message.participant_id == participant_id)
        if to is not None:
            query = query.where(Message.to_number == to)
        return list(session.exec(query).all())


def inbound(services) -> list[Message]:
    with services.sessions() as session:
        return list(
            session.exec(select(Message).where(Message.direction == "in").order_by(Message.id))
        )


def mark_sent(services, sid: str = "SM" + "a" * 32, status: str = "queued") -> Message:
    """The first outbound text, as if handed to Twilio: its SID stored, its status `status`."""
    with services.sessions() as session:
        message = session.exec(select(Message).where(Message.direction == "out")).first()
        message.twilio_sid, message.status = sid, status
        session.commit()
        return message


def sms_form(body, *, sid, from_=ANA, to=PROGRAM_NUMBER, **extra):
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
    }
    form.update(extra)
    return form


def due_population(services, size: int) -> None:
    """`size` participants in step 5 whose check-in is due now (fast bulk set-up)."""
    # A fixed noon in New York keeps every text inside waking hours whatever the real time.
    program = make_program(services, timezone="UTC", quiet_start="00:00", quiet_end="23:59")
    now = services.now()
    with services.sessions() as session:
        people = [
            Participant(
                program_id=program.id,
                name=f"P{i}",
                phone=f"+1201555{i:04d}",
                timezone="UTC",
                status="active",
                consent_at=now,
                step=4,
                created_at=now,
            )
            for i in range(size)
        ]
        session.add_all(people)
        session.flush()
        for person in people:
            commitments.add_commitment(session, person, "Show up on time", now=now)
            commitments.agree(session, person, now=now)
            person.step = 5
            person.next_checkin_at = now - timedelta(seconds=30)
        session.commit()


def enter_step5(uow, participant) -> None:
    """All their commitments are live: step 5 begins, as when they text AGREE."""
    loaded = apply.load(uow.session, participant, uow.now)
    apply.carry_out(uow, loaded, steps.decide(loaded.state, steps.Event.ALL_AGREED, now=uow.now),
                    key=f"test-step5:{participant.id}", reply=False)  # fmt: skip


def advance(services, participant_id, actor="facilitator:1") -> None:
    """A facilitator moves them to the next step (its opening texts are queued)."""
    with UnitOfWork(services) as uow:
        actions.advance(uow, uow.session.get(Participant, participant_id), actor=actor)
        uow.commit()
