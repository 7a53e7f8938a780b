"""What a text means, in every state: consent, STOP and START, the keywords, an answer to
the open question, an answer to a check-in, and words that answer nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from service.core import checkin_rules, commitment_rules
from service.core.decision import (
    KIND_OF_PROMPT,
    REMINDER_EVERY,
    Ask,
    Decision,
    Effect,
    Event,
    Flag,
    OpenCheckIn,
    State,
    Text,
)
from service.core.enums import AttentionKind, ParticipantStatus, Prompt, StatementKind, Step
from service.core.transitions import FLOW, advance_from, pause, release

Status = ParticipantStatus


def texted(s: State, event: Event, text: Text, now: datetime) -> Decision:
    if event == Event.OPT_OUT:
        return _opt_out(s, f"texted {text.keyword.word if text.keyword else 'STOP'}", now)
    if s.status == Status.OPTED_OUT:
        if event in (Event.OPT_IN, Event.YES):
            return _opt_in(s, event, now)
        return Decision("kept_while_opted_out", keep=StatementKind.NOTE)  # no text at all
    if s.status == Status.UNDELIVERABLE:
        # They just texted us, so texts reach them after all.
        back = Status.ACTIVE if s.consented else Status.INVITED
        decision = texted(replace(s, status=back), event, text, now)
        decision.status = decision.status or back
        return decision
    if s.status == Status.CLOSED:
        if event == Event.HELP:
            return Decision("help", replies=["help"])
        flag = Flag(AttentionKind.AFTER_CLOSURE, "texted after closure")
        return Decision("after_closure", keep=_kept_as(event), flags=[flag])
    if s.status == Status.INVITED:
        return _before_consent(s, event, now)
    decision = _step_text(s, event, text, now)
    if text.media and event != Event.OPT_OUT:
        decision.replies.insert(0, "media_not_read")
    return decision


def _kept_as(event: Event) -> StatementKind:
    return StatementKind.MEDIA if event == Event.MEDIA else StatementKind.NOTE


def _opt_out(s: State, why: str, now: datetime) -> Decision:
    """Out at once; Twilio confirms to the carrier, we send nothing more."""
    decision = Decision("opted_out", effects={Effect.CANCEL_PENDING: True})
    if s.status != Status.OPTED_OUT:
        decision.status = Status.OPTED_OUT
        decision.sets["opted_out_at"] = now
        decision.audit.append("opt_out")
        decision.flags.append(Flag(AttentionKind.OPTED_OUT, why))
    return decision


def _opt_in(s: State, event: Event, now: datetime) -> Decision:
    """Back in after STOP: exactly where they were."""
    if not s.consented:
        if event == Event.YES:  # a yes to the invitation they had stopped
            decision = _consent(replace(s, status=Status.INVITED), now)
        else:
            decision = _reminder(replace(s, status=Status.INVITED), now, "opted_in")
            decision.status = Status.INVITED
        decision.sets["opted_out_at"] = None
        decision.audit.insert(0, "opt_in")
        return decision
    return Decision(
        "resumed",
        status=Status.ACTIVE,
        sets={"opted_out_at": None},
        replies=["resumed"],
        audit=["opt_in"],
        effects={Effect.REENTER: True},
    )


def _before_consent(s: State, event: Event, now: datetime) -> Decision:
    if event == Event.YES:
        return _consent(s, now)
    if event == Event.HELP:
        return Decision("help", replies=["help"])
    # Nothing but who we are and how to answer goes out before a yes.
    decision = _reminder(s, now, "awaiting_consent")
    decision.keep = _kept_as(event)
    return decision


def _reminder(s: State, now: datetime, outcome: str) -> Decision:
    due = s.reminded_at is None or now - s.reminded_at >= REMINDER_EVERY
    return Decision(outcome, replies=["consent_reminder"] if due else [])


def _consent(s: State, now: datetime) -> Decision:
    decision = Decision(
        "consent",
        status=Status.ACTIVE,
        sets={"consent_at": now},
        replies=["consent_thanks"],
        audit=["consent"],
    )
    if s.step == Step.NAMING and s.prompt is None:
        decision.prompt = FLOW[0][1]
        decision.asks.append(Ask(FLOW[0][1], paced=False))
    return decision


def _step_text(s: State, event: Event, text: Text, now: datetime) -> Decision:
    """An active (or paused) participant's text, keyword or answer."""
    if event == Event.HELP:
        return Decision("help", replies=["help"])
    if event == Event.OPT_IN:
        return release(s, now, "unpaused") if s.status == Status.PAUSED else _resumed()
    if event == Event.PAUSE:
        return pause(s, now, by_text=True)
    if event == Event.RESUME:
        if s.status == Status.PAUSED:
            return release(s, now, "unpaused")
        return Decision("unpaused", replies=["unpaused"])
    if event == Event.STATUS:
        return Decision("status", replies=["status"])
    if event == Event.HEADSUP:
        argument = text.keyword.argument if text.keyword else ""
        return Decision(
            "headsup",
            keep=StatementKind.HEADSUP,
            keep_body=argument or text.body,
            replies=["headsup_thanks"],
            flags=[Flag(AttentionKind.HEADSUP, argument or text.body)],
        )
    if event == Event.CALL:
        return Decision(
            "call_requested",
            replies=["call_requested"],
            flags=[Flag(AttentionKind.CALL_REQUESTED, "asked to be called")],
            effects={Effect.REQUEST_CALL: True},
        )
    if event == Event.SKIP:
        if _prompt_is_open(s):
            decision = advance_from(s, s.prompt, acknowledged=False)
            decision.outcome = "skipped"
            decision.replies.insert(0, "skipped")
            return decision
        if _reminder_of(s) is None:
            return Decision("nothing_to_skip", replies=["nothing_to_skip"])
        return _answer(s, text, now)  # something else is open: asked again, kindly
    argument = text.keyword.argument if text.keyword else None
    if event == Event.COMMIT and argument:
        return Decision(
            "commitment_added",
            replies=["commitment_added"],
            effects={Effect.ADD_COMMITMENT: argument, Effect.SEND_AGREEMENT: True},
        )
    if event == Event.CHANGE:
        if not argument or not s.changeable:
            return _open_question(s, "note")
        index, wording = commitment_rules.change_target(argument, s.changeable)
        return Decision(
            "change_requested",
            keep=StatementKind.CHANGE_REQUEST,
            keep_body=wording,
            replies=["commitment_change_received"],
            effects={Effect.CHANGE_COMMITMENT: (index, wording)},
        )
    agreeing = event == Event.AGREE or (event == Event.YES and s.prompt == Prompt.AGREE)
    if agreeing and s.waiting:
        return Decision("agreed", clear_prompt=True, effects={Effect.AGREE: True})
    if event == Event.MEDIA:
        return Decision("media", keep=StatementKind.MEDIA)
    return _answer(s, text, now)  # words (or a keyword that means nothing here)


def _resumed() -> Decision:
    return Decision("resumed", replies=["resumed"])


def _prompt_is_open(s: State) -> bool:
    return s.prompt in KIND_OF_PROMPT and s.prompt_open


def _answer(s: State, text: Text, now: datetime) -> Decision:
    if not text.body.strip():
        return Decision("empty")
    if s.step == Step.LIVING and s.checkin is not None:
        return _checkin_text(s.checkin, text.body)
    if _prompt_is_open(s):
        decision = advance_from(s, s.prompt, acknowledged=True)
        decision.outcome = "answer"
        decision.keep = KIND_OF_PROMPT[Prompt(s.prompt)]
        return decision
    return _open_question(s, "note")


def _reminder_of(s: State) -> str | None:
    """How the open question is asked again, short; None when nothing is open."""
    if s.step == Step.LISTENING:
        return "call_reminder"
    if s.step == Step.COMMITMENTS and s.waiting:
        return "agreement_reminder"
    if s.step == Step.LIVING and s.checkin is not None:
        return "checkin_note_kept"
    return None


def _open_question(s: State, outcome: str) -> Decision:
    """Not the answer to anything: keep it, and ask again what is open, kindly and short.
    "Nothing else is needed" is said only when nothing is open."""
    return Decision(outcome, keep=StatementKind.NOTE, replies=[_reminder_of(s) or "note_saved"])


def _checkin_text(checkin: OpenCheckIn, body: str) -> Decision:
    reading = checkin_rules.read_answer(body, checkin.commitments, checkin.clarified)
    if reading.results is not None:
        return Decision(
            "checkin",
            replies=["checkin_thanks"],
            effects={Effect.ANSWER_CHECKIN: (reading.results, reading.note)},
        )
    if reading.clarify:
        return Decision(
            "checkin_clarify", replies=["checkin_clarify"], effects={Effect.CLARIFIED: True}
        )
    # Not an answer (or a second unclear one): kept on the check-in, which stays open.
    return Decision(
        "checkin_note", replies=["checkin_note_kept"], effects={Effect.NOTE_ON_CHECKIN: body}
    )
