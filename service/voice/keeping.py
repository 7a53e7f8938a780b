"""What a kept recording or a spoken check-in means for the participant's steps.

`keep` and `discard` move a recording out of `recorded` with one conditional UPDATE, so a
retried webhook, or the hang-up sweep racing the caller's key press, applies the effects
once. A caller who hangs up before choosing keeps what they recorded: they were told it is
kept for their facilitator, and a spoken answer is rarely hung up on by accident.

A spoken step 1/2 answer advances the open prompt as a texted one would. The next question
is also texted, a little later (`FOLLOW_UP_DELAY`), and that text is cancelled if they
answer it on the same call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import schedule
from service.messaging import outbox
from service.models import CheckIn, Commitment, Message, Participant, Program, Reflection, Statement
from service.program import checkins
from service.program.audit import record
from service.program.commitments import open_commitments
from service.program.conversation import FLOW, open_step

log = logging.getLogger(__name__)

FOLLOW_UP_DELAY = timedelta(minutes=10)
UNDECIDED_AFTER = timedelta(minutes=15)
TEMPLATE_OF = {kind: template for _, template, kind in FLOW}
STEP_OF = {kind: step for step, _, kind in FLOW}
# Keypad answers of a voice check-in, as the letters the check-in engine reads.
CHECKIN_LETTERS = {"kept": "Y", "missed": "N", "partly": "P"}


@dataclass
class Kept:
    """What keeping did: `outcome` picks the spoken answer; `messages` go to the outbox."""

    outcome: str  # reflection, answer_next, answer_last, answer, message, duplicate
    reflection: Reflection | None = None
    messages: list = field(default_factory=list)


def current_question(participant: Participant) -> str | None:
    """The statement kind a spoken answer in steps 1-2 would answer now, if any."""
    if participant.step not in (1, 2):
        return None
    for _, template, kind in FLOW:
        if participant.prompt == template:
            return kind
    # No prompt open (e.g. a facilitator moved them on): the first question of the step.
    return next(kind for step, _, kind in FLOW if step == participant.step)


def keep(session: Session, reflection_id: int, now: datetime) -> Kept:
    """The caller keeps a recording: store it as what it answers, move their step on."""
    claimed = session.execute(
        sa.update(Reflection)
        .where(Reflection.id == reflection_id, Reflection.status == "recorded")
        .values(status="kept")
    )
    reflection = session.get(Reflection, reflection_id, populate_existing=True)
    if claimed.rowcount != 1:
        return Kept("duplicate", reflection)
    participant = session.get(Participant, reflection.participant_id, with_for_update=True)
    program = session.get(Program, participant.program_id)
    if reflection.purpose == "reflection":
        return _kept_reflection(session, reflection, participant, program, now)
    if reflection.purpose in TEMPLATE_OF:
        return _kept_answer(session, reflection, participant, program, now)
    outbox.flag(
        session, participant, "voice_message", f"left a voice message{_length(reflection)}", now
    )
    return Kept("message", reflection)


def discard(session: Session, reflection_id: int, status: str = "discarded") -> bool:
    """The caller records again (or nothing was heard): Twilio's copy is deleted later."""
    result = session.execute(
        sa.update(Reflection)
        .where(Reflection.id == reflection_id, Reflection.status == "recorded")
        .values(status=status)
    )
    return result.rowcount == 1


def _kept_reflection(session, reflection, participant, program, now) -> Kept:
    messages: list = []
    outbox.flag(
        session, participant, "reflection", f"recorded a reflection{_length(reflection)}", now
    )
    if participant.step == 3:
        participant.step = 4
        participant.prompt = None
        participant.prompt_due_at = None
        _cancel_prompt(session, participant, "step3_intro", now)
        record(
            session,
            f"participant:{participant.id}",
            "reflection_kept",
            participant,
            now=now,
            detail={"reflection_id": reflection.id},
        )
        # Commitments already written are sent for agreement now.
        messages = open_step(session, participant, program, now=now)
    session.add(participant)
    return Kept("reflection", reflection, messages)


def _kept_answer(session, reflection, participant, program, now) -> Kept:
    kind = reflection.purpose
    template = TEMPLATE_OF[kind]
    session.add(
        Statement(
            participant_id=participant.id,
            step=STEP_OF[kind],
            kind=kind,
            body=reflection.transcript or "",
            channel="voice",
            recording_id=reflection.id,
            created_at=now,
        )
    )
    # A text with this question may still be waiting (morning pacing, or our follow-up).
    _cancel_prompt(session, participant, template, now)
    if current_question(participant) != kind:
        return Kept("answer", reflection)  # an extra answer: kept, nothing moves
    templates = [t for _, t, _ in FLOW]
    index = templates.index(template)
    if index + 1 < len(FLOW):
        step, following, _ = FLOW[index + 1]
        participant.step = step
        message = _follow_up(session, participant, program, following, now)
        participant.prompt = following
        participant.prompt_due_at = (
            now if program.pacing != "morning" else message_due(message, now)
        )
        session.add(participant)
        return Kept("answer_next", reflection, [message])
    participant.step = 3
    participant.prompt = None
    participant.prompt_due_at = None
    session.add(participant)
    message = _follow_up(session, participant, program, "step3_intro", now)
    return Kept("answer_last", reflection, [message])


def _follow_up(session, participant, program, template, now) -> Message | None:
    """The next prompt by text too, a little later, with the key the SMS flow uses."""
    when = now + FOLLOW_UP_DELAY
    if program.pacing == "morning" and template != "step3_intro":
        when = schedule.next_local_morning(
            now, participant.timezone, checkins.quiet_for(program, participant)
        )
    return outbox.queue_text(
        session,
        participant,
        template,
        key=f"prompt:{participant.id}:{template}",
        now=now,
        program=program,
        send_after=when,
    )


def message_due(message: Message | None, now: datetime) -> datetime:
    return message.send_after if message is not None and message.send_after else now


def _cancel_prompt(session, participant, template: str, now) -> None:
    session.execute(
        sa.update(Message)
        .where(
            Message.idempotency_key == f"prompt:{participant.id}:{template}",
            Message.status == "pending",
        )
        .values(status="cancelled", updated_at=now)
    )


def _length(reflection: Reflection) -> str:
    if not reflection.duration_s:
        return ""
    minutes, seconds = divmod(int(reflection.duration_s), 60)
    return f" ({minutes}:{seconds:02d})"


def keep_undecided(services, *, call_sid: str | None = None) -> int:
    """Keep recordings whose caller hung up before choosing (one call, or any stale)."""
    now = services.now()
    with services.sessions() as session:
        query = select(Reflection.id).where(Reflection.status == "recorded")
        if call_sid is not None:
            query = query.where(Reflection.call_sid == call_sid)
        else:
            query = query.where(Reflection.created_at < now - UNDECIDED_AFTER)
        ids = session.exec(query.order_by(Reflection.id).limit(200)).all()
    kept = 0
    for reflection_id in ids:
        with services.sessions() as session:
            result = keep(session, reflection_id, now)
            session.commit()
        if result.outcome != "duplicate":
            kept += 1
            outbox.enqueue_sends(services, result.messages)
            services.dispatcher.enqueue("settle_recording", reflection_id)
    return kept


# Voice check-ins ------------------------------------------------------------------------


def checkin_commitments(session: Session, checkin: CheckIn) -> list[Commitment]:
    """The commitments a check-in asks about, in the order it lists them."""
    ids = list(checkin.commitment_ids or [])
    if not ids:
        return []
    rows = {c.id: c for c in session.exec(select(Commitment).where(Commitment.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def open_voice_checkin(session: Session, participant: Participant, now: datetime) -> CheckIn | None:
    """The check-in a spoken answer would apply to (the one the text engine would use)."""
    checkin = checkins.open_checkin(session, participant, now)
    if checkin is None or not checkin_commitments(session, checkin):
        return None
    return checkin


def submit_checkin(
    session: Session, participant: Participant, checkin_id: int, results: list[str], now
) -> tuple[bool, list]:
    """Record one spoken answer per commitment (kept / missed / partly), all at once.

    Goes through the check-in engine exactly as a text reply does ("Y N P"), so streaks,
    milestones and partner comparisons stay in one place; `answer_raw` says it was spoken.
    Returns (recorded, outbox rows to send).
    """
    checkin = checkins.open_checkin(session, participant, now)
    if checkin is None or checkin.id != checkin_id:
        return False, []  # answered meanwhile (by text?) or closed
    if len(results) != len(checkin_commitments(session, checkin)):
        return False, []
    outcome = checkins.answer(session, participant, _SpokenReply(results), now)
    if not outcome.handled or checkin.status != "answered":
        return False, []
    checkin.answer_raw = "voice: " + " ".join(CHECKIN_LETTERS[r] for r in results)
    session.add(checkin)
    return True, [m for m in outcome.extra if m is not None]


@dataclass(frozen=True)
class _SpokenReply:
    """Stands in for the inbound text the check-in engine reads its answer from."""

    results: list[str]

    @property
    def body(self) -> str:
        return " ".join(CHECKIN_LETTERS[r] for r in self.results)


def has_commitments(session: Session, participant: Participant) -> bool:
    return bool(open_commitments(session, participant))
