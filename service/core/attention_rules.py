"""Today's rules for the needs-attention list: what comes first, what was said, when a
snoozed item is back, which events settle an item by themselves, and who has gone quiet.

Plain values in, decisions out: the use cases (service/program/attention.py, quiet.py)
load the facts and apply what these say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from service.core.enums import AttentionKind, Labelled, ParticipantStatus, Step
from service.core.local_time import zone
from service.core.options import DEFAULT_OPTIONS

# Today's order: who cannot be reached or asked us to stop, then a promise at risk, then
# partners who disagree, then misses in a row, then people gone quiet; everything else
# after them (by the kind's own rank).
URGENT_FIRST = (
    (AttentionKind.OPTED_OUT, AttentionKind.UNDELIVERABLE),
    (AttentionKind.HEADSUP,),
    (AttentionKind.DISAGREEMENT,),
    (AttentionKind.MISSED_RUN,),
    (AttentionKind.QUIET,),
)
EXCERPT = 140
SNOOZE_HOUR = time(8, 0)


def urgency(kind: str) -> int:
    """0 is the most urgent. Unknown kinds (old rows) come last."""
    for tier, kinds in enumerate(URGENT_FIRST):
        if kind in kinds:
            return tier
    try:
        return len(URGENT_FIRST) + (AttentionKind(kind).rank or 9)
    except ValueError:
        return len(URGENT_FIRST) + 10


def excerpt(text: str | None, limit: int = EXCERPT) -> tuple[str, bool]:
    """The first `limit` characters of `text` (cut at a word, with an ellipsis), and
    whether anything was left out."""
    words = " ".join((text or "").split())
    if len(words) <= limit:
        return words, False
    cut = words[:limit]
    space = cut.rfind(" ")
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…", True


class Snooze(Labelled):
    TOMORROW = "tomorrow", "Until tomorrow"
    NEXT_WEEK = "week", "For a week"


def snoozed_until(choice: Snooze | str, now: datetime, tz: str | None) -> datetime:
    """When a snoozed item is back: 8 am tomorrow, or 8 am a week from today, in `tz`."""
    days = 7 if Snooze(choice) == Snooze.NEXT_WEEK else 1
    here = zone(tz)
    day = now.astimezone(here).date() + timedelta(days=days)
    return datetime.combine(day, SNOOZE_HOUR, tzinfo=here).astimezone(now.tzinfo)


class Cause(Labelled):
    """An event after which some items no longer need anyone."""

    CLOSED = "closed", "Their program was closed"
    OPTED_IN = "opted_in", "They opted in again"
    REACHABLE = "reachable", "Texts reach them again"
    CALLED = "called", "The call they asked for was answered"
    REPLIED = "replied", "They replied"


SETTLES = {
    Cause.OPTED_IN: frozenset({AttentionKind.OPTED_OUT}),
    Cause.REACHABLE: frozenset({AttentionKind.UNDELIVERABLE, AttentionKind.SEND_FAILED}),
    Cause.CALLED: frozenset({AttentionKind.CALL_REQUESTED, AttentionKind.CALL_FAILED}),
    Cause.REPLIED: frozenset({AttentionKind.QUIET}),
}


def settled_by(cause: Cause) -> frozenset[str] | None:
    """The kinds `cause` resolves; None means every kind (a closed participant needs
    nobody: an erasure still pending at Twilio is the program's, not theirs)."""
    if cause == Cause.CLOSED:
        return None
    return SETTLES[cause]


def causes(old: str, new: str | None, *, replied: bool) -> list[Cause]:
    """What a change of status (and a text from them) settles."""
    found = []
    if new is not None and new != old:
        if new == ParticipantStatus.CLOSED:
            found.append(Cause.CLOSED)
        elif old == ParticipantStatus.OPTED_OUT:
            found.append(Cause.OPTED_IN)
        elif old == ParticipantStatus.UNDELIVERABLE:
            found.append(Cause.REACHABLE)
    if replied:
        found.append(Cause.REPLIED)
    return found


# Quiet people ------------------------------------------------------------------------------

DEFAULT_QUIET_DAYS = DEFAULT_OPTIONS["quiet_days"]
NO_YES_AFTER = timedelta(hours=48)
NO_AGREE_AFTER = timedelta(days=2)
CHECKINS_UNANSWERED = timedelta(days=7)


# No quiet spell is raised before a day without a reply (the shortest span above).
SHORTEST_SPELL = timedelta(days=1)


def could_end_a_spell(
    last_reply_at: datetime | None, consent_at: datetime | None, now: datetime
) -> bool:
    """Whether a reply now may end a quiet spell (so its item is worth settling): only
    someone not heard from (nor newly agreed) for a day or more can have one."""
    since = max((t for t in (last_reply_at, consent_at) if t is not None), default=None)
    return since is None or now - since >= SHORTEST_SPELL


class QuietReason(Labelled):
    NO_REPLY = "no_reply", "No reply"
    NO_YES = "no_yes", "Invited, no YES yet"
    NO_AGREE = "no_agree", "Commitments waiting on AGREE"
    CHECKINS = "checkins", "Check-ins unanswered"


@dataclass(frozen=True)
class QuietFacts:
    """What the quiet rule reads about one participant (times in UTC; None: never)."""

    status: str
    step: int
    last_reply_at: datetime | None
    consent_at: datetime | None
    invited_at: datetime | None  # their latest invitation
    agree_asked_at: datetime | None  # when AGREE was last asked, if commitments still wait
    checkin_sent_since_reply: bool  # a check-in went out after their last reply


@dataclass(frozen=True)
class Quiet:
    reason: QuietReason
    since: datetime
    detail: str

    @property
    def key(self) -> str:
        """One quiet spell: the same reason since the same instant is raised once."""
        return f"quiet:{self.reason.value}:{self.since.isoformat(timespec='seconds')}"


def quiet(facts: QuietFacts, now: datetime, days: int = DEFAULT_QUIET_DAYS) -> Quiet | None:
    """Whether this participant has gone quiet, why, and since when."""
    heard = facts.last_reply_at
    if facts.status == ParticipantStatus.INVITED:
        asked = facts.invited_at
        if asked and (heard is None or heard < asked) and now - asked >= NO_YES_AFTER:
            return Quiet(QuietReason.NO_YES, asked, "invited 2 days ago, no YES yet")
        return None
    if facts.status != ParticipantStatus.ACTIVE:
        return None
    since = max((t for t in (heard, facts.consent_at) if t is not None), default=None)
    if since is None:
        return None
    asked = facts.agree_asked_at
    waiting = facts.step == Step.COMMITMENTS and asked and (heard is None or heard < asked)
    if waiting and now - asked >= NO_AGREE_AFTER:
        return Quiet(QuietReason.NO_AGREE, asked, "commitments have waited 2 days for AGREE")
    if facts.step < Step.LIVING:
        if now - since >= max(timedelta(days=days), SHORTEST_SPELL):
            return Quiet(QuietReason.NO_REPLY, since, f"no reply for {(now - since).days} days")
        return None
    if facts.checkin_sent_since_reply and now - since >= CHECKINS_UNANSWERED:
        return Quiet(
            QuietReason.CHECKINS, since, f"check-ins unanswered for {(now - since).days} days"
        )
    return None
