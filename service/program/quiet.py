"""People who have gone quiet, found by a periodic job (jobs/schedule.py) and raised on
Today once per quiet spell (core/attention_rules.py `quiet` decides; the item's `cause`
names the spell, unique per participant, so a second pass or a second cron raises nothing).

The facts are read in pages of participants, a few statements a page whatever the size of
the practice; test personas are never looked at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from service.core import attention_rules
from service.core.enums import (
    AttentionKind,
    CheckInKind,
    CommitmentStatus,
    Direction,
    ParticipantStatus,
    ProgramStatus,
    Step,
)
from service.core.options import option
from service.models import AttentionItem, CheckIn, Commitment, Message, Participant, Program
from service.program.personas import real_people
from service.records import flag
from service.unit_of_work import UnitOfWork

PAGE = 500
INVITE = "invite"
AGREE_PROMPT = "commitment_agree_prompt"


def _candidates(session, now: datetime, after_id: int, shortest: timedelta) -> list:
    """The next page of people who could be quiet: invited or active, in an open program,
    not a test persona, and not heard from for at least the shortest quiet span."""
    heard = sa.func.coalesce(Participant.last_inbound_at, Participant.consent_at)
    return list(
        session.execute(
            sa.select(Participant, Program)
            .join(Program, Program.id == Participant.program_id)
            .where(
                Participant.id > after_id,
                Program.status != ProgramStatus.CLOSED,
                real_people(),
                sa.or_(
                    sa.and_(
                        Participant.status == ParticipantStatus.INVITED,
                        Participant.created_at <= now - attention_rules.NO_YES_AFTER,
                    ),
                    sa.and_(
                        Participant.status == ParticipantStatus.ACTIVE,
                        heard <= now - shortest,
                    ),
                ),
            )
            .order_by(Participant.id)
            .limit(PAGE)
        )
    )


def _latest(session, ids: list[int], template: str) -> dict[int, datetime]:
    return dict(
        session.execute(
            sa.select(Message.participant_id, sa.func.max(Message.created_at))
            .where(
                Message.participant_id.in_(ids),
                Message.direction == Direction.OUT,
                Message.template == template,
            )
            .group_by(Message.participant_id)
        ).all()
    )


def _waiting_on_agree(session, ids: list[int]) -> set[int]:
    return set(
        session.scalars(
            sa.select(Commitment.participant_id)
            .where(
                Commitment.participant_id.in_(ids),
                Commitment.status == CommitmentStatus.PROPOSED,
            )
            .distinct()
        )
    )


def _checkins_since_reply(session, people: list[Participant]) -> set[int]:
    ids = [p.id for p in people if p.step == Step.LIVING]
    if not ids:
        return set()
    heard = sa.func.coalesce(Participant.last_inbound_at, Participant.consent_at)
    return set(
        session.scalars(
            sa.select(CheckIn.participant_id)
            .join(Participant, Participant.id == CheckIn.participant_id)
            .where(
                CheckIn.participant_id.in_(ids),
                CheckIn.kind == CheckInKind.SELF,
                CheckIn.sent_at.is_not(None),
                CheckIn.sent_at > heard,
            )
            .distinct()
        )
    )


def _raised(session, ids: list[int]) -> set[tuple[int, str]]:
    return set(
        session.execute(
            sa.select(AttentionItem.participant_id, AttentionItem.cause).where(
                AttentionItem.participant_id.in_(ids), AttentionItem.cause.is_not(None)
            )
        ).all()
    )


def facts_of(participant: Participant, invited, agree, waiting: bool, checkins: bool):
    return attention_rules.QuietFacts(
        status=participant.status,
        step=participant.step,
        last_reply_at=participant.last_inbound_at,
        consent_at=participant.consent_at,
        invited_at=invited
        or (participant.created_at if participant.status == ParticipantStatus.INVITED else None),
        agree_asked_at=agree if waiting else None,
        checkin_sent_since_reply=checkins,
    )


def find_quiet(services) -> int:
    """Raise a `quiet` item for everyone newly gone quiet. Returns how many were raised."""
    now = services.now()
    shortest = min(
        timedelta(days=1), attention_rules.NO_AGREE_AFTER, attention_rules.CHECKINS_UNANSWERED
    )
    raised, after = 0, 0
    while True:
        with UnitOfWork(services) as uow:
            session = uow.session
            page = _candidates(session, now, after, shortest)
            if not page:
                return raised
            after = page[-1][0].id
            people = [p for p, _ in page]
            ids = [p.id for p in people]
            invited = _latest(session, ids, INVITE)
            agree = _latest(session, ids, AGREE_PROMPT)
            waiting = _waiting_on_agree(session, ids)
            checkins = _checkins_since_reply(session, people)
            seen = _raised(session, ids)
            for participant, program in page:
                facts = facts_of(
                    participant, invited.get(participant.id), agree.get(participant.id),
                    participant.id in waiting, participant.id in checkins,
                )  # fmt: skip
                found = attention_rules.quiet(facts, now, option(program, "quiet_days"))
                if found is None or (participant.id, found.key) in seen:
                    continue
                flag(
                    session, participant, AttentionKind.QUIET, found.detail, now,
                    cause=found.key,
                )  # fmt: skip
                raised += 1
            uow.commit()
