"""The line at the top of a participant's page: what they are being asked right now and
since when, or when their next check-in goes out, or why nothing is asked (invited, paused,
opted out, closed). Pure: it reads the participant's state and the instant given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.core.enums import ParticipantStatus, Prompt, Step


class Asking(StrEnum):
    INVITED = "invited"  # since: invited; waiting for their YES
    PAUSED = "paused"  # since: paused
    OPTED_OUT = "opted_out"  # since: their STOP
    UNDELIVERABLE = "undeliverable"  # texts cannot reach them
    CLOSED = "closed"  # since: closed
    ASKED = "asked"  # prompt, since: when the question went (or goes) out
    CHECKIN_OPEN = "checkin_open"  # since: when today's check-in went out
    NEXT_CHECKIN = "next_checkin"  # at: the next check-in
    NO_CHECKIN = "no_checkin"  # step 5 with nothing scheduled (no active commitment)
    REFLECTION = "reflection"  # step 3: waiting for their spoken reflection
    COMMITMENTS = "commitments"  # step 4: waiting for commitments to be written
    NOTHING = "nothing"  # active, nothing asked right now


@dataclass(frozen=True)
class Headline:
    asking: Asking
    at: datetime | None = None  # since when (or, for the next check-in, when)
    prompt: Prompt | None = None  # what they were asked, for ASKED
    later: bool = False  # the question waits for their waking hours: it goes out at `at`


STOPPED = {
    ParticipantStatus.PAUSED: (Asking.PAUSED, "paused_at"),
    ParticipantStatus.OPTED_OUT: (Asking.OPTED_OUT, "opted_out_at"),
    ParticipantStatus.UNDELIVERABLE: (Asking.UNDELIVERABLE, None),
    ParticipantStatus.CLOSED: (Asking.CLOSED, "closed_at"),
    ParticipantStatus.INVITED: (Asking.INVITED, "created_at"),
}


def headline(participant, now: datetime, checkin_sent_at: datetime | None = None) -> Headline:
    """`checkin_sent_at`: when their check-in that is still waiting for an answer went out
    (None when none is open)."""
    status = participant.status
    if status in STOPPED:
        asking, since = STOPPED[ParticipantStatus(status)]
        return Headline(asking, getattr(participant, since) if since else None)
    if participant.prompt in Prompt.values():
        at = participant.prompt_due_at
        return Headline(
            Asking.ASKED, at, Prompt(participant.prompt), later=at is not None and at > now
        )
    if participant.step >= Step.LIVING:
        if checkin_sent_at is not None:
            return Headline(Asking.CHECKIN_OPEN, checkin_sent_at)
        if participant.next_checkin_at is not None:
            return Headline(Asking.NEXT_CHECKIN, participant.next_checkin_at)
        return Headline(Asking.NO_CHECKIN)
    if participant.step == Step.LISTENING:
        return Headline(Asking.REFLECTION, participant.prompt_due_at)
    if participant.step == Step.COMMITMENTS:
        return Headline(Asking.COMMITMENTS)
    return Headline(Asking.NOTHING)
