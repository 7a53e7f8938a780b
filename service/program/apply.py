"""Between the step machine and the database: load a participant's `State`, and carry out
a `Decision` (core/steps.py) in a unit of work. Texts, calls and the admin all go through
here, so a decision means the same thing whichever door it came in by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from service.core import attention_rules, schedule, steps, texts
from service.core.enums import (
    CallDirection,
    CallStatus,
    Channel,
    CommitmentStatus,
    Direction,
    Pacing,
    ParticipantStatus,
    ProposedBy,
    RecordingPurpose,
    Step,
)
from service.core.options import quiet_hours
from service.core.status import call_reply, status_reply
from service.core.thread_events import STEP_CHANGED
from service.infra.db import insert_now, keep
from service.messaging import outbox
from service.models import Call, CheckIn, Message, Participant, Program, Statement
from service.program import attention, checkin_answers, checkin_schedule, commitments, webhooks
from service.program.enrollment import invitation_key, send_invitation
from service.records import actor_of, audit, flag
from service.unit_of_work import UnitOfWork

Effect = steps.Effect


@dataclass
class Loaded:
    """A participant, their program, their `State`, and the rows it was read from."""

    participant: Participant
    program: Program
    state: steps.State
    checkin: CheckIn | None = None


def load(session: Session, participant: Participant, now: datetime, *, asked_by=None) -> Loaded:
    """Everything the rules read about one participant. `asked_by`: when the text being
    answered arrived (a prompt counts as open only once its own text had gone out)."""
    # Reads only: what this turn changed so far (the text's owner, its arrival) is
    # flushed with the rest at the commit, in one UPDATE, not before these SELECTs.
    with session.no_autoflush:
        return _load(session, participant, now, asked_by)


def _load(session: Session, participant: Participant, now: datetime, asked_by) -> Loaded:
    program = session.get(Program, participant.program_id)
    status = ParticipantStatus(participant.status)
    mine = commitments.open_commitments(session, participant) if participant.step >= 3 else []
    keep(session, mine)  # an answer to the check-in finds them without asking again
    checkin = None
    if participant.step == Step.LIVING:
        checkin = checkin_answers.open_checkin(session, participant, program, now)
    open_checkin = None
    if checkin is not None and checkin.commitment_ids:
        open_checkin = steps.OpenCheckIn(len(checkin.commitment_ids), bool(checkin.clarified))
    due = participant.prompt_due_at
    at = asked_by or now
    state = steps.State(
        status=status,
        step=participant.step,
        prompt=participant.prompt,
        prompt_open=participant.prompt is not None and (due is None or due <= at),
        consented=participant.consent_at is not None,
        waiting=sum(c.status == CommitmentStatus.PROPOSED for c in mine),
        all_live=commitments.all_live(mine),
        changeable=sum(c.status in commitments.CHANGEABLE for c in mine),
        checkin=open_checkin,
        morning=program.pacing == Pacing.MORNING,
        reminded_at=_last_reminder(session, participant) if not participant.consent_at else None,
        invited_today=_invited_today(session, participant, now),
    )
    return Loaded(participant, program, state, checkin)


def _last_reminder(session: Session, participant: Participant) -> datetime | None:
    return session.exec(
        select(Message.created_at)
        .where(Message.participant_id == participant.id, Message.template == "consent_reminder")
        .order_by(Message.created_at.desc())
        .limit(1)
    ).first()


def _invited_today(session: Session, participant: Participant, now: datetime) -> bool:
    if participant.status != ParticipantStatus.INVITED:
        return False
    key = invitation_key(participant, now)
    return (
        session.exec(select(Message.id).where(Message.idempotency_key == key)).first() is not None
    )


def carry_out(
    uow: UnitOfWork,
    loaded: Loaded,
    decision: steps.Decision,
    *,
    key: str,
    message: Message | None = None,
    actor: str | None = None,
    reply: bool = True,
    ask_prefix: str | None = None,
    channel: Channel = Channel.SMS,
    body: str | None = None,
    texts_of: dict[str, str] | None = None,
    audit_detail: dict | None = None,
    recording_id: int | None = None,
    replied: bool = False,
) -> steps.Decision:
    """Apply `decision` to `loaded.participant`. Replies are keyed `{key}:{template}`
    (`texts_of` gives one its own words); prompts `prompt:{id}:{template}` (or
    `{ask_prefix}:{template}`), once each. `replied`: a text from them that may end a quiet
    spell (core/attention_rules.py `could_end_a_spell`)."""
    session, now = uow.session, uow.now
    p, program = loaded.participant, loaded.program
    before = webhooks.Before.of(p)
    actor = actor or actor_of(p)
    words = body if body is not None else (message.body if message is not None else "")
    status_before = p.status
    if decision.keep is not None:
        # Kept with the step it was said in, before the decision moves them on.
        statement = Statement(
            participant_id=p.id,
            step=decision.keep_step or p.step,
            kind=decision.keep,
            body=decision.keep_body if decision.keep_body is not None else words,
            channel=channel,
            message_id=message.id if message is not None else None,
            recording_id=recording_id,
            created_at=now,
        )
        if p.id is None:  # a participant not stored yet: the statement waits for the flush
            session.add(statement)
        else:  # one INSERT now, with no flush and no object for the flush to track
            insert_now(session, statement)
        webhooks.statement_recorded(uow, p, statement)
    if decision.effects.get(Effect.CANCEL_PENDING):
        outbox.cancel_pending(session, p, now)
    if decision.status is not None:
        p.status = decision.status
    if decision.step is not None:
        p.step = decision.step
    if decision.clear_prompt:
        p.prompt, p.prompt_due_at = None, None
    if decision.prompt is not None:
        p.prompt = decision.prompt
    for name, value in decision.sets.items():
        setattr(p, name, value)
    session.add(p)
    wanted = []
    for asked in decision.replies:
        template, values = _reply(session, p, program, asked, now)
        text = {
            "key": f"{key}:{asked}",
            "program": program,
            "reply": reply,
            "body": (texts_of or {}).get(asked),
            "values": values,
        }
        wanted.append((template, text))
    asks = [
        _ask(uow, p, program, ask, prefix=ask_prefix or f"prompt:{p.id}") for ask in decision.asks
    ]
    stored = outbox.queue_texts(uow, p, wanted + [(ask.template, text) for ask, text, _ in asks])
    for (ask, text, due_now), message in zip(asks, stored[len(wanted) :], strict=True):
        if ask.template == p.prompt:
            sent_at = (
                message.send_after
                if message is not None and message.send_after
                else text["send_after"]
            )
            p.prompt_due_at = now if due_now else sent_at
    said = message.id if message is not None and message.direction == Direction.IN else None
    _effects(uow, loaded, decision, key=key, reply=reply, actor=actor, words=words, said=said)
    # What this changes settles older items first (never the ones it raises itself).
    gone = attention_rules.causes(status_before, decision.status, replied=replied)
    attention.settle(session, p, gone, now)
    for item in decision.flags:
        flag(session, p, item.kind, item.detail, now, message_id=said, reflection_id=recording_id)
    for action in decision.audit:
        detail = {"step": p.step} if action in ("advance_step", "send_prompt") else {}
        if action == "close":
            detail = {"outcome": p.outcome}
        audit(session, actor, action, p, now=now, detail={**detail, **(audit_detail or {})})
    if p.step != before.step:  # a line in the thread on their page (core/thread_events)
        audit(session, actor, STEP_CHANGED, p, now=now, detail={"step": p.step})
    webhooks.emit_changes(uow, before, p)
    return decision


def _reply(session: Session, p: Participant, program: Program, template: str, now):
    """The text a reply names, with its values: STATUS says what is next and when, CALL
    when the call will come if waking hours make it wait."""
    if template == "status":
        key, values = status_reply(
            step=p.step,
            status=p.status,
            prompt=p.prompt,
            prompt_due_at=p.prompt_due_at,
            next_checkin_at=p.next_checkin_at,
            now=now,
            tz=p.timezone,
            lang=p.language,
        )
        return key, {**values, "step_name": texts.step_name(p.step, p.language)}
    if template == "call_requested":
        when = schedule.next_allowed(now, p.timezone, quiet_hours(program))
        return call_reply(now, when, p.timezone, p.language)
    return template, {}


def _ask(uow: UnitOfWork, p: Participant, program: Program, ask: steps.Ask, prefix: str):
    """A prompt to open: now (or a little later), or at their next local morning (pacing).
    Returns (ask, the text's keyword arguments, whether the prompt counts as open at once
    rather than when the text leaves)."""
    now = uow.now
    when = now + ask.delay
    morning = ask.paced and program.pacing == Pacing.MORNING and ask.template != "step3_intro"
    if morning:
        when = schedule.next_local_morning(now, p.timezone, quiet_hours(program))
    text = {"key": f"{prefix}:{ask.template}", "program": program, "send_after": when}
    return ask, text, bool(ask.delay) and not morning


def _effects(
    uow: UnitOfWork, loaded: Loaded, decision, *, key, reply, actor, words, said=None
) -> None:
    session, now = uow.session, uow.now
    p, program, effects = loaded.participant, loaded.program, decision.effects
    if effects.get(Effect.REENTER):
        checkin_schedule.reenter(session, p, program, now)
    if effects.get(Effect.REQUEST_CALL):
        when = schedule.next_allowed(now, p.timezone, quiet_hours(program))
        session.add(
            Call(
                participant_id=p.id,
                direction=CallDirection.OUT,
                purpose=RecordingPurpose.REFLECTION,
                status=CallStatus.PENDING,
                next_attempt_at=when,
                created_at=now,
                updated_at=now,
            )
        )
    if Effect.ADD_COMMITMENT in effects:
        commitments.add_commitment(
            session, p, effects[Effect.ADD_COMMITMENT], now=now,
            proposed_by=ProposedBy.PARTICIPANT, actor=actor,
        )  # fmt: skip
    if Effect.CHANGE_COMMITMENT in effects:
        index, _wording = effects[Effect.CHANGE_COMMITMENT]
        target = commitments.request_change(session, p, index, now)
        flag(session, p, "commitment_change", f"proposed new wording for #{target.id}", now)
    if effects.get(Effect.AGREE):
        _agree(uow, loaded, key=key, reply=reply)
    if effects.get(Effect.SEND_AGREEMENT):
        commitments.send_for_agreement(uow, p, key=key, reply=reply)
    if Effect.ANSWER_CHECKIN in effects and loaded.checkin is not None:
        results, note = effects[Effect.ANSWER_CHECKIN]
        checkin_answers.record(
            uow, p, program, loaded.checkin, results, note=note, raw=words, reply_key=key,
            message_id=said,
        )  # fmt: skip
        webhooks.checkin_answered(uow, p, loaded.checkin)
    if effects.get(Effect.CLARIFIED) and loaded.checkin is not None:
        loaded.checkin.clarified = True
        session.add(loaded.checkin)
    if Effect.NOTE_ON_CHECKIN in effects and loaded.checkin is not None:
        checkin_answers.keep_note(loaded.checkin, effects[Effect.NOTE_ON_CHECKIN])
        session.add(loaded.checkin)
    if effects.get(Effect.SEND_INVITATION):
        send_invitation(uow, p, program)
    if effects.get(Effect.RESEND_PROMPT) and p.prompt in steps.KIND_OF_PROMPT:
        message = outbox.queue_text(
            uow, p, p.prompt, key=f"prompt:{p.id}:{p.step}:{now.isoformat()}", program=program
        )
        p.prompt_due_at = message.send_after if message is not None else now
    if effects.get(Effect.START_CHECKINS):
        checkin_schedule.start(session, p, program, now)
    if Effect.CANCEL_PROMPT_TEXT in effects:
        outbox.cancel_keyed(session, f"prompt:{p.id}:{effects[Effect.CANCEL_PROMPT_TEXT]}", now)
    if effects.get(Effect.STOP_SCHEDULES):
        checkin_schedule.stop(session, p)


def _agree(uow: UnitOfWork, loaded: Loaded, *, key: str, reply: bool) -> None:
    """They agree what waits for them; whoever's commitments are now all live moves on."""
    session, now = uow.session, uow.now
    p = loaded.participant
    agreement = commitments.agree(session, p, now=now)
    webhooks.commitments_agreed(uow, p, now)
    if commitments.all_live(commitments.open_commitments(session, p)):
        decision = steps.decide(loaded.state, steps.Event.ALL_AGREED, now=now)
        decision.replies.insert(0, "commitments_agreed")
        carry_out(uow, loaded, decision, key=key, reply=reply)
    else:
        template = "commitment_waiting_partner" if agreement.waiting else "commitments_agreed"
        outbox.queue_text(uow, p, template, key=f"{key}:{template}", reply=reply)
    # A partner whose shared commitments just went live is told too.
    for commitment in agreement.live:
        if commitment.participant_id == p.id:
            continue
        partner = session.get(Participant, commitment.participant_id)
        mine = commitments.open_commitments(session, partner)
        if partner.step == Step.COMMITMENTS and commitments.all_live(mine):
            other = load(session, partner, now)
            decision = steps.decide(other.state, steps.Event.ALL_AGREED, now=now)
            decision.replies.insert(0, "commitments_agreed")
            tail = key.split(":", 1)[-1]
            carry_out(uow, other, decision, key=f"agreed:{partner.id}:{tail}", reply=False)
