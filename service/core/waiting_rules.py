"""What we are waiting for from a participant, in one word a coach can scan: their YES,
their answer to a step, their reflection, their AGREE, a check-in reply, or nothing."""

from __future__ import annotations

from service.core.enums import Labelled, ParticipantStatus, Prompt, Step


class WaitingOn(Labelled):
    CONSENT = "consent", "Their YES to the invitation"
    ANSWER = "answer", "Their answer to the step"
    REFLECTION = "reflection", "Their spoken reflection"
    AGREE = "agree", "Their AGREE to the commitments"
    CHECKIN = "checkin", "Their check-in reply"
    NOTHING = "nothing", "Nothing"


def waiting_on(status: str, step: int, prompt: str | None, checkin_open: bool) -> WaitingOn:
    """What the next move of an invited or active participant is; nothing for anyone we
    do not text now (paused, opted out, unreachable, closed)."""
    if status == ParticipantStatus.INVITED:
        return WaitingOn.CONSENT
    if status != ParticipantStatus.ACTIVE:
        return WaitingOn.NOTHING
    if checkin_open:
        return WaitingOn.CHECKIN
    if prompt == Prompt.AGREE:
        return WaitingOn.AGREE
    if prompt:
        return WaitingOn.ANSWER
    if step == Step.LISTENING:
        return WaitingOn.REFLECTION
    return WaitingOn.NOTHING
