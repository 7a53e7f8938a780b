"""Answering a check-in, by text or by voice: the results are stored once, the streak,
the trust ladder and a partner's view follow (the rules: core/checkin_rules.py)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from service.core import checkin_rules
from service.core.enums import AttentionKind, CheckInKind, CheckInStatus, Result
from service.messaging import outbox
from service.models import CheckIn, CheckInAnswer, Commitment, Participant, Program
from service.records import flag
from service.unit_of_work import UnitOfWork

HISTORY = 400  # check-ins read back for a streak


def latest(session: Session, participant: Participant, now: datetime) -> CheckIn | None:
    return session.exec(
        select(CheckIn)
        .where(CheckIn.participant_id == participant.id, CheckIn.due_at <= now)
        .order_by(CheckIn.due_at.desc())
        .limit(1)
    ).first()


def open_checkin(session: Session, participant: Participant, program: Program, now):
    """The check-in an answer now would go to (open, or missed within the grace)."""
    checkin = latest(session, participant, now)
    if not checkin_rules.answerable(program, participant, checkin, now):
        return None
    return checkin


def commitments_of(session: Session, checkin: CheckIn) -> list[Commitment]:
    """The commitments a check-in asks about, in the order it lists them (those this session
    has loaded already are not asked for again)."""
    ids = list(checkin.commitment_ids or [])
    rows = {i: c for i in ids if (c := session.identity_map.get(identity_key(Commitment, i)))}
    missing = [i for i in ids if i not in rows]
    if missing:
        rows.update(
            (c.id, c) for c in session.exec(select(Commitment).where(Commitment.id.in_(missing)))
        )
    return [rows[i] for i in ids if i in rows]


def keep_note(checkin: CheckIn, body: str) -> None:
    """Words said while a check-in is open, kept with it for the facilitator."""
    body = body.strip()
    checkin.note = f"{checkin.note}\n{body}" if checkin.note else body


def record(
    uow: UnitOfWork,
    participant: Participant,
    program: Program,
    checkin: CheckIn,
    results: tuple[Result, ...],
    *,
    note: str | None,
    raw: str,
    reply_key: str,
    message_id: int | None = None,
) -> None:
    """One result per commitment asked about (a correction replaces an earlier answer).
    `message_id`: the text it came in (shown with any disagreement it raises)."""
    session, now = uow.session, uow.now
    commitments = commitments_of(session, checkin)
    earlier = {}
    if checkin.answered_at is not None:  # a correction: its answers are replaced
        earlier = {
            a.commitment_id: a
            for a in session.exec(
                select(CheckInAnswer).where(CheckInAnswer.checkin_id == checkin.id)
            )
        }
    for commitment, value in zip(commitments, results, strict=True):
        existing = earlier.get(commitment.id)
        if existing is not None:
            existing.result = value
        else:
            session.add(
                CheckInAnswer(checkin_id=checkin.id, commitment_id=commitment.id, result=value)
            )
    checkin.status = CheckInStatus.ANSWERED
    checkin.answered_at = now
    checkin.answer_raw = raw
    if note:
        keep_note(checkin, note)
    checkin.next_nudge_at = None
    checkin.closes_at = None
    session.add(checkin)
    if checkin.kind == CheckInKind.PARTNER:
        session.flush()
        _compare_with_self_report(session, checkin, commitments, results, now, message_id)
        return
    before = participant.streak
    # This answer is scored as it stands, unflushed: the turn's writes go in one flush.
    just = checkin_rules.Scored(checkin.status, len(commitments), tuple(results))
    after_result(uow, participant, program, just=(checkin.id, just))
    if checkin_rules.milestone(program, before, participant.streak):
        outbox.queue_text(
            uow,
            participant,
            "milestone",
            key=f"milestone:{participant.id}:{checkin.id}",
            program=program,
            reply=True,
            values={"streak": participant.streak},
        )


def history(session: Session, participant: Participant, *, just=None) -> list[checkin_rules.Scored]:
    """Their closed check-ins, newest first, as the score reads them. `just`: (id, Scored)
    of the one answered in this transaction, taken as given rather than read back."""
    query = select(CheckIn).where(
        CheckIn.participant_id == participant.id,
        CheckIn.kind == CheckInKind.SELF,
        CheckIn.status.in_((CheckInStatus.ANSWERED, CheckInStatus.MISSED)),
    )
    if just is not None:
        query = query.where(CheckIn.id != just[0])
    # With `just`, what is pending is that answer itself: no flush is needed first.
    with session.no_autoflush if just is not None else contextlib.nullcontext():
        rows = session.exec(
            query.order_by(CheckIn.due_at.desc()).limit(HISTORY - (just is not None))
        ).all()
        results = results_of(session, [c.id for c in rows])
    scored = [
        checkin_rules.Scored(c.status, len(c.commitment_ids or []), tuple(results.get(c.id, ())))
        for c in rows
    ]
    return scored if just is None else [just[1], *scored]


def results_of(session: Session, checkin_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if checkin_ids:
        for cid, result in session.exec(
            select(CheckInAnswer.checkin_id, CheckInAnswer.result).where(
                CheckInAnswer.checkin_id.in_(checkin_ids)
            )
        ):
            found.setdefault(cid, []).append(result)
    return found


def after_result(uow: UnitOfWork, participant: Participant, program: Program, *, just=None):
    """Answered or missed: the streak from history, a run of misses, the trust ladder.
    `just`: the check-in answered in this transaction (see `history`)."""
    closed = history(uow.session, participant, just=just)
    outcome = checkin_rules.after_result(program, participant, closed)
    participant.streak = outcome.streak
    if outcome.missed_run:
        detail = f"{outcome.missed_run} check-ins missed in a row"
        flag(uow.session, participant, AttentionKind.MISSED_RUN, detail, uow.now)
    if outcome.cadence is not None:
        participant.current_cadence = outcome.cadence
        participant.next_checkin_at = checkin_rules.next_due(program, participant, uow.now)
    uow.session.add(participant)


def _compare_with_self_report(session, checkin, commitments, results, now, message_id) -> None:
    """A partner's view that differs from the self-report needs the facilitator."""
    subject = session.get(Participant, checkin.subject_id)
    view = {c.shared_key: value for c, value in zip(commitments, results, strict=True)}
    own = session.exec(
        select(CheckInAnswer, CheckIn)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
        .where(
            CheckIn.participant_id == subject.id,
            CheckIn.kind == CheckInKind.SELF,
            CheckIn.due_at >= checkin.due_at - timedelta(days=7),
        )
        .order_by(CheckIn.due_at.desc())
    ).all()
    seen = set()
    for self_answer, _ in own:
        commitment = session.get(Commitment, self_answer.commitment_id)
        if commitment.id in seen or commitment.shared_key not in view:
            continue
        seen.add(commitment.id)
        partner_view = view[commitment.shared_key]
        if checkin_rules.disagrees(self_answer.result, partner_view):
            detail = f"self-report {self_answer.result}, partner says {partner_view}"
            flag(session, subject, AttentionKind.DISAGREEMENT, detail, now, message_id=message_id)
