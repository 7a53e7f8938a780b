"""What a facilitator does to one participant from the admin: invite again, send the step's
prompt, move them on, pause and resume, re-time after a time-zone change, unlink partners.

Each is an event of the step machine (core/steps.py), so a click means what a text would:
the rules decide, `apply` carries it out in the caller's unit of work, and the audit log
names the facilitator. A refusal is an `ActionError` with a plain reason.
"""

from __future__ import annotations

from service.core import compose_rules, schedule, steps
from service.core.options import quiet_hours
from service.messaging import outbox
from service.models import Message, Participant
from service.program import apply, checkin_schedule, enrollment
from service.records import audit
from service.unit_of_work import UnitOfWork

Event = steps.Event


class ActionError(ValueError):
    """The action cannot happen; the message says why, in plain words."""


def act(uow: UnitOfWork, participant: Participant, event: Event, *, actor: str):
    """Carry out one facilitator event for `participant`, or raise ActionError."""
    now = uow.now
    loaded = apply.load(uow.session, participant, now)
    decision = steps.decide(loaded.state, event, now=now)
    if decision.refused:
        reason = decision.refused.replace("they are", f"{participant.name} is", 1)
        raise ActionError(reason)
    stamp = f"{participant.id}:{participant.step}:{now.isoformat()}"
    apply.carry_out(
        uow, loaded, decision, key=f"{event.value}:{stamp}", actor=actor, reply=False,
        ask_prefix=f"step:{stamp}",
    )  # fmt: skip
    return decision


def reinvite(uow: UnitOfWork, participant: Participant, *, actor: str):
    """Queue the invitation (consent request) again. At most one a day."""
    return act(uow, participant, Event.REINVITE, actor=actor)


def send_prompt_now(uow: UnitOfWork, participant: Participant, *, actor: str):
    """Send what the current step asks (again): the open prompt of steps 1-2, the step-3
    invitation to call, or the commitments waiting for agreement in step 4. Quiet hours
    still apply: it leaves at the next waking-hours moment."""
    return act(uow, participant, Event.SEND_PROMPT, actor=actor)


def advance(uow: UnitOfWork, participant: Participant, *, actor: str):
    """Move an active participant to the next step (its opening text is queued)."""
    return act(uow, participant, Event.ADVANCE, actor=actor)


def pause(uow: UnitOfWork, participant: Participant, *, actor: str):
    """Hold check-ins and nudges (the facilitator's pause; the participant is not texted)."""
    return act(uow, participant, Event.HOLD, actor=actor)


def resume(uow: UnitOfWork, participant: Participant, *, actor: str):
    """Back to active; the schedule goes on from now, exactly where they were."""
    return act(uow, participant, Event.RELEASE, actor=actor)


def moved_time_zone(uow: UnitOfWork, participant: Participant, program) -> None:
    """Their time zone changed: the schedule follows their new local time."""
    checkin_schedule.follow_time_zone(participant, program, uow.now)


def set_partner(uow: UnitOfWork, participant: Participant, partner_id: int | None, *, actor):
    """Link them to `partner_id` (None: to nobody), unlinking whoever was linked."""
    session = uow.session
    if (participant.partner_id or None) == (partner_id or None):
        return
    enrollment.unlink_partners(session, participant)
    if partner_id:
        partner = session.get(Participant, partner_id)
        enrollment.link_partners(session, participant, partner, now=uow.now, actor=actor)
    else:
        audit(session, actor, "unlink_partners", participant, now=uow.now)


def text_participant(
    uow: UnitOfWork, participant: Participant, body: str, *, actor: str, nonce: str
) -> Message:
    """A text the facilitator wrote, through the outbox: at once in their waking hours,
    else when those begin. `nonce` comes with the form, so sending it twice sends it once.
    The audit log names the facilitator (not the words)."""
    why = compose_rules.refusal(participant.status) or compose_rules.body_problem(body)
    if why:
        raise ActionError(why)
    now = uow.now
    composed = outbox.compose_text(
        uow.session,
        participant,
        compose_rules.FACILITATOR_TEXT,
        key=f"compose:{participant.id}:{nonce}",
        now=now,
        body=body.strip(),
    )
    stored = outbox.insert_once(uow.session, composed)
    if stored is composed:  # (a repeat of the same form finds the row it wrote)
        uow.send(stored)
        audit(uow.session, actor, "text_participant", participant, now=now,
              detail={"message_id": stored.id})  # fmt: skip
    return stored


def leaves_at(participant: Participant, program, now):
    """When a text written now would leave: now, or when their waking hours begin."""
    return schedule.next_allowed(now, participant.timezone, quiet_hours(program))
