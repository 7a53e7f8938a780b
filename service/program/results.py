"""A whole program's results, for the facilitator's own records and for programs run as
studies: one row per participant (test personas left out), a page of participants at a
time, each page in a constant handful of statements: the database adds up, per
participant and per commitment, with the one score (core/checkin_rules.py, in SQL in
program/scores.py). A download can start with the first page, however big the program.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlmodel import Session

from service.core import checkin_rules, results
from service.core.enums import CheckInKind, CheckInStatus
from service.models import CheckIn, CheckInAnswer, Commitment, Participant
from service.program.personas import is_persona, real_people
from service.program.scores import SCORED, answer_score, asked

# Participants a page. Each page's statements find its check-ins and answers through the
# indexes; past about a hundred people (3,000 check-ins) PostgreSQL reads the whole answers
# table instead: at 100,000 participants a page of 250 took 166 ms, of 50 17 ms, and the
# whole program's export was no slower for it (1.1 s for 5,000 people against 3.1 s).
PAGE = 50


def program_results(session: Session, program_id: int) -> list[dict]:
    """Every participant of the program (personas excluded) as `core.results.row`s."""
    return [row for page in result_pages(session, program_id) for row in page]


def results_shape(session: Session, program_id: int) -> tuple[int, int]:
    """(participants, the most commitments any of them has), personas left out: what a
    CSV's header and the audit log need before the first row is read."""
    real = (Participant.program_id == program_id, real_people())
    people = session.scalar(sa.select(sa.func.count()).select_from(Participant).where(*real))
    each = (
        sa.select(sa.func.count().label("n"))
        .select_from(Commitment)
        .join(Participant, Participant.id == Commitment.participant_id)
        .where(*real)
        .group_by(Commitment.participant_id)
        .subquery()
    )
    most = session.scalar(sa.select(sa.func.max(each.c.n)))
    return int(people or 0), int(most or 0)


def result_pages(session: Session, program_id: int, *, size: int = 0) -> Iterator[list[dict]]:
    """The program's rows, oldest participant first, `size` (default PAGE) at a time."""
    size = size or PAGE
    after = 0
    while True:
        # Plain rows of the columns a result shows, not objects: a program may hold thousands.
        people = session.execute(
            sa.select(
                Participant.id,
                Participant.name,
                Participant.phone,
                Participant.step,
                Participant.status,
                Participant.outcome,
                Participant.created_at,
                Participant.consent_at,
                Participant.closed_at,
            )  # fmt: skip
            .where(Participant.program_id == program_id, Participant.id > after)
            .order_by(Participant.id)
            .limit(size)
        ).all()
        if not people:
            return
        after = people[-1].id
        real = [p for p in people if not is_persona(p)]
        if real:
            yield _rows(session, real)
        if len(people) < size:
            return


def _rows(session: Session, people: list) -> list[dict]:
    """These participants' rows: each figure added up for all of them in one statement."""
    ids = [p.id for p in people]
    in_page = CheckIn.participant_id.in_(ids)
    own = CheckIn.kind == CheckInKind.SELF

    # Check-ins sent and answered, and (for the kept ratio) the commitments asked about in
    # missed ones: a missed check-in counts each of them as 0. One pass over the check-ins.
    counts: dict[int, tuple[int, int]] = {}
    points: dict[int, list] = {}
    missed = sa.case((CheckIn.status == CheckInStatus.MISSED, asked()), else_=0)
    for pid, sent, answered, counted in session.execute(
        sa.select(
            CheckIn.participant_id,
            sa.func.count(CheckIn.sent_at),
            sa.func.sum(sa.case((CheckIn.status == CheckInStatus.ANSWERED, 1), else_=0)),
            sa.func.sum(missed),
        )
        .where(in_page, own)
        .group_by(CheckIn.participant_id)
    ):
        counts[pid] = (int(sent or 0), int(answered or 0))
        points[pid] = [0.0, int(counted or 0)]
    scored = (in_page, own, CheckIn.status.in_(SCORED))
    for pid, got, counted in session.execute(
        sa.select(CheckIn.participant_id, sa.func.sum(answer_score()), sa.func.count())
        .select_from(CheckInAnswer)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
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
            .where(in_page)
            .group_by(CheckInAnswer.commitment_id)
        )
    }
    commitments: dict[int, list] = {}
    for commitment in session.execute(
        sa.select(
            Commitment.id,
            Commitment.participant_id,
            Commitment.text,
            Commitment.agreed_text,
            Commitment.status,
        )  # fmt: skip
        .where(Commitment.participant_id.in_(ids))
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
