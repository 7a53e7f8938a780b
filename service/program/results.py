"""A whole program's results, for the facilitator's own records and for programs run as
studies: one row per participant (test personas left out), in a constant handful of
statements however many people the program has: the database adds up, per participant and
per commitment, with the one score (core/checkin_rules.py, in SQL in program/scores.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from service.core import checkin_rules, results
from service.core.enums import CheckInKind, CheckInStatus
from service.models import CheckIn, CheckInAnswer, Commitment, Participant
from service.program.personas import is_persona
from service.program.scores import SCORED, answer_score, asked


def program_results(session: Session, program_id: int) -> list[dict]:
    """Every participant of the program (personas excluded) as `core.results.row`s."""
    people = [
        p
        for p in session.scalars(
            sa.select(Participant)
            .where(Participant.program_id == program_id)
            .order_by(Participant.id)
        )
        if not is_persona(p)
    ]
    if not people:
        return []
    theirs = CheckIn.participant_id == Participant.id
    in_program = Participant.program_id == program_id
    own = CheckIn.kind == CheckInKind.SELF

    counts = {
        pid: (int(sent or 0), int(answered or 0))
        for pid, sent, answered in session.execute(
            sa.select(
                CheckIn.participant_id,
                sa.func.count(CheckIn.sent_at),
                sa.func.sum(sa.case((CheckIn.status == CheckInStatus.ANSWERED, 1), else_=0)),
            )
            .join(Participant, theirs)
            .where(in_program, own)
            .group_by(CheckIn.participant_id)
        )
    }

    # Kept, overall: a missed check-in counts each commitment it asked about as 0.
    points: dict[int, list] = {}
    scored = (in_program, own, CheckIn.status.in_(SCORED))
    missed = sa.case((CheckIn.status == CheckInStatus.MISSED, asked()), else_=0)
    for pid, counted in session.execute(
        sa.select(CheckIn.participant_id, sa.func.sum(missed))
        .join(Participant, theirs)
        .where(*scored)
        .group_by(CheckIn.participant_id)
    ):
        points[pid] = [0.0, int(counted or 0)]
    for pid, got, counted in session.execute(
        sa.select(CheckIn.participant_id, sa.func.sum(answer_score()), sa.func.count())
        .select_from(CheckInAnswer)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
        .join(Participant, theirs)
        .where(*scored)
        .group_by(CheckIn.participant_id)
    ):
        total = points.setdefault(pid, [0.0, 0])
        total[0] += float(got or 0)
        total[1] += int(counted or 0)

    # Kept, per commitment: the share of its answers that found it kept (as the
    # participant page's commitment_ratio reads it), over the whole program.
    per_commitment = {
        cid: checkin_rules.ratio(float(got or 0), int(counted or 0))
        for cid, got, counted in session.execute(
            sa.select(CheckInAnswer.commitment_id, sa.func.sum(answer_score()), sa.func.count())
            .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
            .join(Participant, theirs)
            .where(in_program)
            .group_by(CheckInAnswer.commitment_id)
        )
    }
    commitments: dict[int, list] = {}
    for commitment in session.scalars(
        sa.select(Commitment)
        .join(Participant, Participant.id == Commitment.participant_id)
        .where(in_program)
        .order_by(Commitment.participant_id, Commitment.id)
    ):
        commitments.setdefault(commitment.participant_id, []).append(
            (commitment, per_commitment.get(commitment.id))
        )

    return [
        results.row(
            p,
            *counts.get(p.id, (0, 0)),
            checkin_rules.ratio(*points.get(p.id, (0.0, 0))),
            commitments.get(p.id, []),
        )
        for p in people
    ]
