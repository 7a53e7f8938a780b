"""Moves the step machine makes from more than one door: the next question, a step's
opening, a pause and its end (used by core/texting.py and core/steps.py)."""

from __future__ import annotations

from datetime import datetime

from service.core.decision import FLOW, Ask, Decision, Effect, Flag, State
from service.core.enums import AttentionKind, ParticipantStatus, Step

Status = ParticipantStatus


def refuse(why: str) -> Decision:
    return Decision("refused", refused=why)


def advance_from(s: State, prompt: str, acknowledged: bool) -> Decision:
    """The open prompt of steps 1-2 is answered (or skipped): the next one opens."""
    index = [p for _, p, _ in FLOW].index(prompt)
    decision = Decision("answer")
    if index + 1 < len(FLOW):
        step, following, _ = FLOW[index + 1]
        decision.step = step
        if acknowledged:
            decision.replies.append("next_prompt_morning" if s.morning else "ack_statement")
        decision.prompt = following
        decision.asks.append(Ask(following))
        return decision
    # Step 2 is done: step 3 is a call, which the next text explains.
    decision.step = Step.LISTENING
    decision.clear_prompt = True
    if acknowledged:
        decision.replies.append("ack_statement")
    decision.asks.append(Ask("step3_intro", paced=False))
    return decision


def pause(s: State, now: datetime, *, by_text: bool) -> Decision:
    decision = Decision("paused", replies=["paused"] if by_text else [])
    if s.status != Status.PAUSED:
        decision.status = Status.PAUSED
        decision.sets["paused_at"] = now
        if by_text:
            decision.flags.append(Flag(AttentionKind.PAUSED, "asked for a pause"))
        else:
            decision.audit.append("pause")
    return decision


def release(s: State, now: datetime, outcome: str, *, by_text: bool = True) -> Decision:
    """Back from a pause: exactly where they were, the schedule going on from now."""
    decision = Decision(
        outcome,
        status=Status.ACTIVE,
        sets={"paused_at": None},
        effects={Effect.REENTER: True},
    )
    if by_text:
        decision.replies.append("unpaused")
        decision.flags.append(Flag(AttentionKind.RESUMED, "resumed after a pause"))
    else:
        decision.audit.append("resume")
    return decision


def open_step(s: State, step: int) -> Decision:
    """What a step starts with: its first question, the call, the agreement, check-ins."""
    decision = Decision("step_opened")
    if step in (Step.NAMING, Step.RESPONSIBILITY):
        first = next(p for st, p, _ in FLOW if st == step)
        decision.prompt = first
        decision.asks.append(Ask(first, paced=False))
    elif step == Step.LISTENING:
        decision.asks.append(Ask("step3_intro", paced=False))
    elif step == Step.COMMITMENTS and not s.all_live:
        if s.waiting:  # else nothing is written yet: they are sent when it is
            decision.effects[Effect.SEND_AGREEMENT] = True
    else:
        decision.step = Step.LIVING
        decision.clear_prompt = True
        decision.audit.append("enter_step5")
        decision.effects[Effect.START_CHECKINS] = True
    return decision
