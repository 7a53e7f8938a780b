"""The five steps and the participant's lifecycle, as one state machine.

`decide(state, event, now=...)` is every transition there is: a text (its keyword, or an
answer; core/texting.py), a facilitator's click, a kept recording or a spoken answer, the
carrier's word that texts cannot reach someone. It reads a `State` (plain values the caller
loads) and returns a `Decision` (core/decision.py): what changes, which texts to send,
what to keep, flag and audit, and the `Effect`s the caller carries out on the database.
SMS, voice and the admin are three doors into this one function; none decides anything
itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from service.core.decision import (  # noqa: F401 - the machine's words, one import away
    FLOW,
    FOLLOW_UP_DELAY,
    KIND_OF_PROMPT,
    PROMPT_OF_KIND,
    TEXTED,
    Ask,
    Decision,
    Effect,
    Event,
    Flag,
    OpenCheckIn,
    State,
    Text,
)
from service.core.enums import (
    AttentionKind,
    Outcome,
    ParticipantStatus,
    Prompt,
    StatementKind,
    Step,
)
from service.core.texting import texted
from service.core.transitions import advance_from, open_step, pause, refuse, release

Status = ParticipantStatus
# Who a call or a recording can move along the steps (anyone else's is only kept).
IN_THE_PROGRAM = (Status.ACTIVE, Status.PAUSED, Status.UNDELIVERABLE)


def decide(state: State, event: Event, *, now: datetime, text: Text | None = None, **args):
    """Every transition of the five steps and the lifecycle. `args` carry what some events
    need: `kind` (the statement kind a spoken answer answers), `outcome` (closing)."""
    if event in TEXTED:
        return texted(state, event, text or Text(), now)
    return _OTHER[event](state, now, **args)


# A facilitator's actions ---------------------------------------------------------------


def _reinvite(s: State, now: datetime, **_) -> Decision:
    if s.status != Status.INVITED:
        return refuse(f"they are {s.status.label.lower()}: no invitation needed")
    if s.invited_today:
        return refuse("an invitation was already queued today")
    return Decision("reinvited", audit=["reinvite"], effects={Effect.SEND_INVITATION: True})


def _send_prompt(s: State, now: datetime, **_) -> Decision:
    """What the current step asks, again (quiet hours still apply)."""
    if s.status != Status.ACTIVE:
        return refuse(f"they are {s.status.label.lower()}: prompts go only to active people")
    if s.step == Step.LIVING:
        return refuse("step 5 runs on scheduled check-ins; there is no prompt to send")
    if s.step == Step.COMMITMENTS:
        if not s.waiting:
            return refuse("no commitments are waiting for their agreement")
        return Decision("prompt_sent", audit=["send_prompt"], effects={Effect.SEND_AGREEMENT: True})
    if s.prompt in KIND_OF_PROMPT:
        return Decision("prompt_sent", audit=["send_prompt"], effects={Effect.RESEND_PROMPT: True})
    decision = open_step(s, s.step)
    decision.audit.insert(0, "send_prompt")
    return decision


def _advance(s: State, now: datetime, **_) -> Decision:
    """A facilitator moves someone on (after a session in person, say)."""
    if s.status != Status.ACTIVE:
        return refuse(f"they are {s.status.label.lower()}: only active people move on")
    if s.step >= Step.LIVING:
        return refuse("they are already in the last step")
    decision = open_step(s, s.step + 1)
    decision.step = s.step + 1
    decision.clear_prompt = decision.prompt is None
    decision.audit.insert(0, "advance_step")
    return decision


def _hold(s: State, now: datetime, **_) -> Decision:
    if s.status != Status.ACTIVE:
        return refuse(f"they are {s.status.label.lower()}: only active people pause")
    return pause(s, now, by_text=False)


def _resume_by_facilitator(s: State, now: datetime, **_) -> Decision:
    if s.status != Status.PAUSED:
        return refuse(f"they are {s.status.label.lower()}, not paused")
    return release(s, now, "resumed", by_text=False)


def _close(s: State, now: datetime, *, outcome: Outcome | str, **_) -> Decision:
    """The end of someone's program: the closing text once, every schedule stopped."""
    if s.status == Status.CLOSED:
        return refuse("they are closed already")
    outcome = Outcome(outcome)
    decision = Decision(
        "closed",
        status=Status.CLOSED,
        sets={"closed_at": now, "outcome": outcome.value},
        clear_prompt=True,
        audit=["close"],
        effects={Effect.CANCEL_PENDING: True, Effect.STOP_SCHEDULES: True},
    )
    if s.status in (Status.ACTIVE, Status.PAUSED, Status.INVITED):
        decision.replies.append(f"closing_{outcome.value}")
    return decision


# Other doors -----------------------------------------------------------------------------


def _reflection_kept(s: State, now: datetime, **_) -> Decision:
    """Step 3's recording is kept: step 4 opens (commitments already written are sent)."""
    decision = Decision("reflection")
    if s.step == Step.LISTENING and s.status in IN_THE_PROGRAM:
        decision = open_step(s, Step.COMMITMENTS)
        decision.outcome = "reflection"
        decision.step = decision.step or Step.COMMITMENTS
        decision.clear_prompt = True
        decision.audit.insert(0, "reflection_kept")
        decision.effects[Effect.CANCEL_PROMPT_TEXT] = "step3_intro"
    return decision


def current_question(s: State) -> StatementKind | None:
    """What a spoken answer in steps 1-2 answers now: the open prompt, or (none open, say a
    facilitator moved them on) the first question of their step."""
    if s.step not in (Step.NAMING, Step.RESPONSIBILITY):
        return None
    if s.prompt in KIND_OF_PROMPT:
        return KIND_OF_PROMPT[Prompt(s.prompt)]
    return next(kind for step, _, kind in FLOW if step == s.step)


def _spoken_answer(s: State, now: datetime, *, kind: StatementKind, **_) -> Decision:
    """A spoken answer to a step 1-2 question: kept as what it answers; if it answers the
    open question, the next opens (its text follows a little later, see voice)."""
    kind = StatementKind(kind)
    prompt = PROMPT_OF_KIND[kind]
    step = next(st for st, p, _ in FLOW if p == prompt)
    decision = Decision("answer", keep=kind, keep_step=step)
    decision.effects[Effect.CANCEL_PROMPT_TEXT] = prompt.value
    if current_question(s) != kind or s.status not in IN_THE_PROGRAM:
        return decision  # an extra answer (or from someone not taking part): kept, no move
    advanced = advance_from(s, prompt, acknowledged=False)
    advanced.keep, advanced.keep_step = kind, step
    advanced.effects.update(decision.effects)
    last = advanced.step == Step.LISTENING
    advanced.outcome = "answer_last" if last else "answer_next"
    # The next question is open on the call at once; its text follows a little later.
    advanced.asks = [replace(a, delay=FOLLOW_UP_DELAY) for a in advanced.asks]
    return advanced


def _all_agreed(s: State, now: datetime, **_) -> Decision:
    """Every commitment is live: check-ins begin."""
    if s.step >= Step.LIVING or s.status == Status.CLOSED:
        return Decision("agreed")
    return Decision(
        "agreed",
        step=Step.LIVING,
        clear_prompt=True,
        audit=["enter_step5"],
        effects={Effect.START_CHECKINS: True},
    )


def _carrier_opt_out(s: State, now: datetime, *, code=None, **_) -> Decision:
    if s.status == Status.OPTED_OUT:
        return Decision("opted_out")
    return Decision(
        "opted_out",
        status=Status.OPTED_OUT,
        sets={"opted_out_at": now},
        flags=[Flag(AttentionKind.OPTED_OUT, f"carrier reports opt-out (error {code})")],
    )


def _unreachable(s: State, now: datetime, *, code=None, **_) -> Decision:
    if s.status in (Status.OPTED_OUT, Status.UNDELIVERABLE):
        return Decision("undeliverable")
    return Decision(
        "undeliverable",
        status=Status.UNDELIVERABLE,
        flags=[Flag(AttentionKind.UNDELIVERABLE, f"texts cannot reach them (error {code})")],
    )


_OTHER = {
    Event.REINVITE: _reinvite,
    Event.SEND_PROMPT: _send_prompt,
    Event.ADVANCE: _advance,
    Event.HOLD: _hold,
    Event.RELEASE: _resume_by_facilitator,
    Event.CLOSE: _close,
    Event.REFLECTION_KEPT: _reflection_kept,
    Event.SPOKEN_ANSWER: _spoken_answer,
    Event.ALL_AGREED: _all_agreed,
    Event.CARRIER_OPT_OUT: _carrier_opt_out,
    Event.UNREACHABLE: _unreachable,
}
