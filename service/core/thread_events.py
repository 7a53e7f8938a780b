"""What happened besides texts, as lines in a participant's thread: step changes, status
changes, calls, check-in results and commitment changes, placed among the texts by time.
Pure: it reads recorded facts (audit actions, call and check-in rows' values)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.core.enums import CallStatus, CheckInStatus, Result

STEP_CHANGED = "step_changed"  # the audit action written when a decision moves a step


class Line(StrEnum):
    STEP = "step"
    CONSENT = "consent"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"
    AGREED = "agreed"
    REFLECTION = "reflection"
    CALL_PLACED = "call_placed"
    CALL_ANSWERED = "call_answered"
    CALL_MISSED = "call_missed"
    CALL_IN = "call_in"
    CHECKIN_ANSWERED = "checkin_answered"
    CHECKIN_MISSED = "checkin_missed"
    COMMITMENT_RETIRED = "commitment_retired"
    COMMITMENT_CHANGED = "commitment_changed"
    COMMITMENT_MOVED = "commitment_moved"


# The audit actions that are lines in the thread (the rest are bookkeeping).
AUDITED = {
    STEP_CHANGED: Line.STEP,
    "consent": Line.CONSENT,
    "opt_out": Line.OPT_OUT,
    "opt_in": Line.OPT_IN,
    "pause": Line.PAUSE,
    "resume": Line.RESUME,
    "close": Line.CLOSE,
    "agree_commitments": Line.AGREED,
    "reflection_kept": Line.REFLECTION,
    "retire_commitment": Line.COMMITMENT_RETIRED,
    "edit_commitment": Line.COMMITMENT_CHANGED,
    "relabel_commitment": Line.COMMITMENT_CHANGED,
    "move_commitment": Line.COMMITMENT_MOVED,
}
ANSWERED_CALL = frozenset({CallStatus.COMPLETED, CallStatus.IN_PROGRESS})
UNANSWERED_CALL = frozenset(
    {CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.FAILED, CallStatus.CANCELED}
)


def call_line(direction: str, status: str) -> Line | None:
    """An outbound call placed, answered or missed; a call they made; None for one that was
    cancelled before it was placed."""
    if direction == "in":
        return Line.CALL_IN
    if status in ANSWERED_CALL:
        return Line.CALL_ANSWERED
    if status in UNANSWERED_CALL:
        return Line.CALL_MISSED
    if status == CallStatus.CANCELLED:
        return None
    return Line.CALL_PLACED


def checkin_line(status: str) -> Line | None:
    """Only a check-in's result is a line (the question itself is one of the texts)."""
    return {
        CheckInStatus.ANSWERED: Line.CHECKIN_ANSWERED,
        CheckInStatus.MISSED: Line.CHECKIN_MISSED,
    }.get(status)


class Answer(StrEnum):
    """One commitment's result in one check-in, in words."""

    KEPT = "kept"
    PARTLY = "partly"
    MISSED = "missed"
    NO_ANSWER = "no_answer"
    WAITING = "waiting"
    NOT_ASKED = "not_asked"  # the check-in was cancelled or never went out


def answers(status: str, asked: Iterable[int], results: dict[int, str]) -> list[tuple[int, Answer]]:
    """(commitment id, its result in words) for each commitment a check-in asked about."""
    given = {Result.KEPT: Answer.KEPT, Result.PARTLY: Answer.PARTLY, Result.MISSED: Answer.MISSED}
    if status == CheckInStatus.OPEN:
        missing = Answer.WAITING
    elif status in (CheckInStatus.ANSWERED, CheckInStatus.MISSED):
        missing = Answer.NO_ANSWER
    else:
        missing = Answer.NOT_ASKED
    return [(cid, given.get(results.get(cid), missing)) for cid in asked]


@dataclass(frozen=True)
class Entry:
    at: datetime
    order: int  # ties: a text before the line it caused
    item: object


def merged(texts: Iterable, lines: Iterable[Entry], *, at=lambda m: m.created_at) -> list:
    """Texts and lines, newest first (a text and a line at one instant: the line first, as
    it follows the text that caused it)."""
    entries = [Entry(at(m), 0, m) for m in texts] + list(lines)
    entries.sort(key=lambda e: (e.at, e.order), reverse=True)
    return [e.item for e in entries]
