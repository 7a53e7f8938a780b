"""The check-in engine never schedules a text outside the participant's waking hours.

`tests/test_schedule.py` proves the maths over 15 zones; this drives the real tick (check-ins,
nudges, misses) across DST weekends in many zones and looks at every text it writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from service.models import CheckIn, Message, Participant
from service.program import commitments, tick
from service.unit_of_work import UnitOfWork
from tests.support.factories import enter_step5, make_program

ZONES = [
    "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Europe/London",
    "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Auckland",
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tokyo", "Pacific/Chatham", "America/St_Johns",
]  # fmt: skip
# Weekends with a DST change somewhere in the list (2026): US, EU, AU/NZ.
STARTS = [
    datetime(2026, 3, 7, 12, tzinfo=UTC),
    datetime(2026, 3, 28, 12, tzinfo=UTC),
    datetime(2026, 4, 4, 12, tzinfo=UTC),
    datetime(2026, 9, 26, 12, tzinfo=UTC),
    datetime(2026, 10, 24, 12, tzinfo=UTC),
    datetime(2026, 10, 31, 12, tzinfo=UTC),
]
CADENCES = ["daily@07:00", "daily@02:30", "daily@20:59", "weekdays@12:00", "every:2@23:30"]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    zone=st.sampled_from(ZONES),
    start=st.sampled_from(STARTS),
    cadence=st.sampled_from(CADENCES),
    window=st.sampled_from([("08:00", "21:00"), ("02:00", "04:00"), ("10:30", "19:15")]),
)
def test_no_text_outside_waking_hours(app, services, clock, zone, start, cadence, window):
    from tests.support.servers import empty_tables

    empty_tables(services.engine)
    clock.set(start)
    program = make_program(
        services,
        timezone=zone,
        cadence=cadence,
        quiet_start=window[0],
        quiet_end=window[1],
        options={"max_nudges": 2, "nudge_delay_minutes": 45},
    )
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        person = Participant(
            program_id=program.id, name="Ana", phone="+12015550123", timezone=zone,
            status="active", consent_at=now, step=4, created_at=now,
        )  # fmt: skip
        session.add(person)
        session.flush()
        commitments.add_commitment(session, person, "Call before cancelling", now=now)
        commitments.agree(session, person, now=now)
        enter_step5(uow, person)
        uow.commit()

    # Like the every-minute cron: tick half a minute after each thing falls due, for 3 days.
    end = start + timedelta(days=3)
    for _ in range(60):
        upcoming = _next_event(services)
        if upcoming is None or upcoming > end:
            break
        clock.set(max(upcoming, services.now()) + timedelta(seconds=30))
        tick.tick(services)

    lo, hi = (time.fromisoformat(t) for t in window)
    with services.sessions() as session:
        texts = session.exec(select(Message).where(Message.direction == "out")).all()
    assert any(m.template == "checkin" for m in texts) or cadence.startswith("weekdays")
    for message in texts:
        when = (message.send_after or message.created_at).astimezone(ZoneInfo(zone))
        assert lo <= when.time() < hi, f"{message.template} at {when} ({zone}, {window})"


def _next_event(services):
    with services.sessions() as session:
        times = [
            session.exec(select(Participant.next_checkin_at)).first(),
            session.exec(select(CheckIn.next_nudge_at).where(CheckIn.next_nudge_at.is_not(None))
                         .order_by(CheckIn.next_nudge_at)).first(),
            session.exec(select(CheckIn.closes_at).where(CheckIn.closes_at.is_not(None))
                         .order_by(CheckIn.closes_at)).first(),
        ]  # fmt: skip
    times = [t for t in times if t is not None]
    return min(times) if times else None
