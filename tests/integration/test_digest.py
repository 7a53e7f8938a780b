"""The facilitator's once-a-day digest: only when asked for, only when needed, once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from jobs import tasks
from service import records
from service.models import Facilitator, Message, Participant
from tests.support.factories import make_participant, make_program


def _setup(services, digest=True):
    program = make_program(services, options={"daily_digest": digest})
    ana = make_participant(services, program, invite=False)
    with services.sessions() as session:
        owner = session.get(Facilitator, program.owner_id)
        owner.phone = "+12015550177"
        owner.timezone = "America/New_York"
        records.flag(
            session, session.get(Participant, ana.id), "headsup", "at risk", services.now()
        )
        session.commit()
    return program


def digests(services):
    with services.sessions() as session:
        return session.exec(select(Message).where(Message.template == "facilitator_digest")).all()


def test_digest_goes_once_on_the_local_morning(app, services, clock, run_jobs):
    _setup(services)
    clock.set(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))  # 07:00 in New York: too early
    assert tasks.daily_digests() == 0
    clock.set(datetime(2026, 3, 3, 14, 5, tzinfo=UTC))  # 09:05
    tasks.daily_digests()
    clock.set(datetime(2026, 3, 3, 15, 5, tzinfo=UTC))  # the hourly run again
    tasks.daily_digests()
    run_jobs()
    [digest] = digests(services)
    assert digest.to_number == "+12015550177"
    assert "1 person needs your attention" in digest.body
    assert digest.status == "console"
    clock.set(datetime(2026, 3, 4, 14, 5, tzinfo=UTC))  # next day, still unresolved
    tasks.daily_digests()
    assert len(digests(services)) == 2


def test_digest_goes_at_nine_in_the_facilitators_zone_not_the_programs(
    app, services, clock, run_jobs
):
    program = _setup(services)  # the program runs in New York
    with services.sessions() as session:
        owner = session.get(Facilitator, program.owner_id)
        owner.timezone = "Europe/Berlin"  # the coach lives in Berlin
        session.commit()
    clock.set(datetime(2026, 3, 3, 7, 5, tzinfo=UTC))  # 08:05 in Berlin, 02:05 in New York
    assert tasks.daily_digests() == 0
    clock.set(datetime(2026, 3, 3, 8, 5, tzinfo=UTC))  # 09:05 in Berlin, 03:05 in New York
    tasks.daily_digests()
    assert len(digests(services)) == 1
    clock.set(datetime(2026, 3, 3, 14, 5, tzinfo=UTC))  # 09:05 in New York: already sent
    tasks.daily_digests()
    clock.set(datetime(2026, 3, 4, 19, 5, tzinfo=UTC))  # 20:05 in Berlin next day: too late
    assert tasks.daily_digests() == 0
    run_jobs()
    [digest] = digests(services)
    assert digest.idempotency_key.endswith(":2026-03-03")


def test_no_digest_unless_the_program_asks(app, services, clock):
    _setup(services, digest=False)
    clock.set(datetime(2026, 3, 3, 14, 5, tzinfo=UTC))
    tasks.daily_digests()
    assert digests(services) == []
