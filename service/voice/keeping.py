"""What a kept recording or a spoken check-in means for the participant's steps.

`keep` and `discard` move a recording out of `recorded` with one conditional UPDATE, so a
retried webhook, or the hang-up sweep racing the caller's key press, applies the effects
once. A caller who hangs up before choosing keeps what they recorded: they were told it is
kept for their facilitator, and a spoken answer is rarely hung up on by accident.

What a kept recording does is the step machine's (core/steps.py): a reflection opens step
4, a spoken step 1/2 answer advances the open prompt as a texted one would (the next
question is texted too, a little later, and that text is cancelled if they answer it on
the same call).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import checkin_rules, steps
from service.core.enums import (
    AttentionKind,
    Channel,
    RecordingPurpose,
    RecordingStatus,
    Result,
    StatementKind,
)
from service.models import CheckIn, Participant, Reflection
from service.program import apply, checkin_answers, webhooks
from service.records import flag
from service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

UNDECIDED_AFTER = timedelta(minutes=15)
SPOKEN_ANSWERS = frozenset(steps.PROMPT_OF_KIND)


@dataclass
class Kept:
    """What keeping did: `outcome` picks the spoken answer."""

    outcome: str  # reflection, answer_next, answer_last, answer, message, duplicate
    reflection: Reflection | None = None


def current_question(session: Session, participant: Participant, now) -> str | None:
    """The statement kind a spoken answer in steps 1-2 would answer now, if any."""
    loaded = apply.load(session, participant, now)
    return steps.current_question(loaded.state)


def keep(uow: UnitOfWork, reflection_id: int) -> Kept:
    """The caller keeps a recording: store it as what it answers, move their step on."""
    session, now = uow.session, uow.now
    claimed = session.execute(
        sa.update(Reflection)
        .where(Reflection.id == reflection_id, Reflection.status == RecordingStatus.RECORDED)
        .values(status=RecordingStatus.KEPT)
    )
    reflection = session.get(Reflection, reflection_id, populate_existing=True)
    if claimed.rowcount != 1:
        return Kept("duplicate", reflection)
    uow.later("settle_recording", reflection_id)
    participant = session.get(Participant, reflection.participant_id, with_for_update=True)
    webhooks.reflection_recorded(uow, participant, reflection)
    loaded = apply.load(session, participant, now)
    key = f"voice:{reflection.id}"
    if reflection.purpose == RecordingPurpose.REFLECTION:
        detail = f"recorded a reflection{_length(reflection)}"
        kind = AttentionKind.REFLECTION
        flag(session, participant, kind, detail, now, reflection_id=reflection.id)
        decision = steps.decide(loaded.state, steps.Event.REFLECTION_KEPT, now=now)
        apply.carry_out(
            uow, loaded, decision, key=key, reply=False,
            audit_detail={"reflection_id": reflection.id},
        )  # fmt: skip
        return Kept("reflection", reflection)
    if reflection.purpose in SPOKEN_ANSWERS:
        kind = StatementKind(reflection.purpose)
        decision = steps.decide(loaded.state, steps.Event.SPOKEN_ANSWER, now=now, kind=kind)
        apply.carry_out(
            uow, loaded, decision, key=key, reply=False, channel=Channel.VOICE,
            body=reflection.transcript or "", recording_id=reflection.id,
        )  # fmt: skip
        return Kept(decision.outcome, reflection)
    detail = f"left a voice message{_length(reflection)}"
    kind = AttentionKind.VOICE_MESSAGE
    flag(session, participant, kind, detail, now, reflection_id=reflection.id)
    return Kept("message", reflection)


def discard(uow: UnitOfWork, reflection_id: int, status=RecordingStatus.DISCARDED) -> bool:
    """The caller records again (or nothing was heard): Twilio's copy is deleted later."""
    result = uow.session.execute(
        sa.update(Reflection)
        .where(Reflection.id == reflection_id, Reflection.status == RecordingStatus.RECORDED)
        .values(status=status)
    )
    if result.rowcount == 1:
        uow.later("settle_recording", reflection_id)
    return result.rowcount == 1


def _length(reflection: Reflection) -> str:
    if not reflection.duration_s:
        return ""
    minutes, seconds = divmod(int(reflection.duration_s), 60)
    return f" ({minutes}:{seconds:02d})"


def keep_undecided(services, *, call_sid: str | None = None) -> int:
    """Keep recordings whose caller hung up before choosing (one call, or any stale)."""
    now = services.now()
    with services.sessions() as session:
        query = select(Reflection.id).where(Reflection.status == RecordingStatus.RECORDED)
        if call_sid is not None:
            query = query.where(Reflection.call_sid == call_sid)
        else:
            query = query.where(Reflection.created_at < now - UNDECIDED_AFTER)
        ids = session.exec(query.order_by(Reflection.id).limit(200)).all()
    kept = 0
    for reflection_id in ids:
        with UnitOfWork(services) as uow:
            result = keep(uow, reflection_id)
            uow.commit()
        kept += result.outcome != "duplicate"
    return kept


# Voice check-ins ------------------------------------------------------------------------


def open_voice_checkin(session: Session, participant: Participant, now) -> CheckIn | None:
    """The check-in a spoken answer would apply to (the one the text engine would use)."""
    loaded = apply.load(session, participant, now)
    checkin = loaded.checkin
    if checkin is None or not checkin_answers.commitments_of(session, checkin):
        return None
    return checkin


def submit_checkin(uow: UnitOfWork, participant: Participant, checkin_id: int, results) -> bool:
    """Record one spoken answer per commitment (kept / missed / partly), all at once,
    through the same rules as a texted "Y N P"; `answer_raw` says it was spoken."""
    session = uow.session
    loaded = apply.load(session, participant, uow.now)
    checkin = loaded.checkin
    if checkin is None or checkin.id != checkin_id:
        return False  # answered meanwhile (by text?) or closed
    results = tuple(Result(r) for r in results)
    if len(results) != len(checkin_answers.commitments_of(session, checkin)):
        return False
    checkin_answers.record(
        uow,
        participant,
        loaded.program,
        checkin,
        results,
        note=None,
        raw="voice: " + checkin_rules.spoken_letters(results),
        reply_key=f"voice-checkin:{checkin.id}",
    )
    return True
