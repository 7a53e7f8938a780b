"""When someone's next check-ins are: started with step 5, moved on by the tick, taken up
again from now after a way back in, stopped at closure (the rules: core/checkin_rules.py).

Each participant in step 5 has a stored next-due instant (`next_checkin_at`, UTC, indexed),
and one for the weekly partner question, so the tick reads only who is due.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from service.core import checkin_rules
from service.core.enums import CheckInStatus
from service.models import CheckIn, Participant, Program


def partner_of(session: Session, participant: Participant) -> Participant | None:
    return session.get(Participant, participant.partner_id) if participant.partner_id else None


def start(session: Session, participant: Participant, program: Program, now: datetime) -> None:
    """Commitments are live: schedule the first check-in (and both partners' weekly
    question, where both share)."""
    participant.next_checkin_at = checkin_rules.next_due(program, participant, now)
    session.add(participant)
    partner = partner_of(session, participant)
    if partner is not None and checkin_rules.two_sided(program, participant, partner):
        for person in (participant, partner):
            if person.next_partner_checkin_at is None:
                person.next_partner_checkin_at = checkin_rules.next_weekly(program, person, now)
                session.add(person)


def reenter(session: Session, participant: Participant, program: Program, now: datetime) -> None:
    """Back in after STOP or a pause: exactly where they were, the schedule from now."""
    partner = partner_of(session, participant)
    for name, value in checkin_rules.reentry(program, participant, partner, now).items():
        setattr(participant, name, value)
    session.add(participant)


def follow_time_zone(participant: Participant, program: Program, now: datetime) -> None:
    """Their time zone changed: the next check-in follows their new local time."""
    if participant.next_checkin_at is not None:
        participant.next_checkin_at = checkin_rules.next_due(program, participant, now)


def stop(session: Session, participant: Participant) -> None:
    """Nothing more is asked: open check-ins are cancelled, nothing is scheduled."""
    session.execute(
        sa.update(CheckIn)
        .where(CheckIn.participant_id == participant.id, CheckIn.status == CheckInStatus.OPEN)
        .values(status=CheckInStatus.CANCELLED, next_nudge_at=None, closes_at=None)
    )
    participant.next_checkin_at = None
    participant.next_partner_checkin_at = None
    session.add(participant)
