"""The words of the step machine (core/steps.py): its events, the state it reads, the
decision it returns and the effects a decision asks the caller for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from service.core.enums import AttentionKind, ParticipantStatus, Prompt, StatementKind, Step
from service.core.keywords import Keyword, KeywordKind

# The text prompts of steps 1 and 2, in order: (step, prompt, what the answer is kept as).
FLOW = (
    (Step.NAMING, Prompt.WHAT_HAPPENED, StatementKind.WHAT_HAPPENED),
    (Step.NAMING, Prompt.EMOTIONS, StatementKind.EMOTIONS),
    (Step.NAMING, Prompt.PATTERN, StatementKind.PATTERN),
    (Step.RESPONSIBILITY, Prompt.RESPONSIBILITY, StatementKind.RESPONSIBILITY),
)
KIND_OF_PROMPT = {prompt: kind for _, prompt, kind in FLOW}
PROMPT_OF_KIND = {kind: prompt for _, prompt, kind in FLOW}
# Before consent, the who-and-how answer goes at most this often to one person.
REMINDER_EVERY = timedelta(hours=1)
# A question opened on a call is texted too, this much later (cancelled if answered).
FOLLOW_UP_DELAY = timedelta(minutes=10)


# Every event the machine knows: each keyword a text can be (core/keywords.py), then
#   TEXT      words that are no keyword        MEDIA        a picture or file, no words
#   REINVITE, SEND_PROMPT, ADVANCE, HOLD (a pause), RELEASE (its end), CLOSE: a facilitator
#   REFLECTION_KEPT, SPOKEN_ANSWER: a call;  ALL_AGREED: every commitment is live
#   CARRIER_OPT_OUT, UNREACHABLE: the carrier's word on a text we sent
_OTHER_EVENTS = (
    "text", "media", "reinvite", "send_prompt", "advance", "hold", "release", "close",
    "reflection_kept", "spoken_answer", "all_agreed", "carrier_opt_out", "unreachable",
)  # fmt: skip
Event = StrEnum(
    "Event",
    [(k.name, k.value) for k in KeywordKind] + [(v.upper(), v) for v in _OTHER_EVENTS],
    module=__name__,
)
TEXTED = frozenset(Event) - {
    Event.REINVITE, Event.SEND_PROMPT, Event.ADVANCE, Event.HOLD, Event.RELEASE, Event.CLOSE,
    Event.REFLECTION_KEPT, Event.SPOKEN_ANSWER, Event.ALL_AGREED, Event.CARRIER_OPT_OUT,
    Event.UNREACHABLE,
}  # fmt: skip
EVENT_OF_KEYWORD = {kind: Event(kind.value) for kind in KeywordKind}


class Effect(StrEnum):
    """What the caller does with the database when a decision asks for it."""

    CANCEL_PENDING = "cancel_pending"  # nothing queued for them leaves any more
    REENTER = "reenter"  # check-ins (and a partner's) scheduled again from now
    REQUEST_CALL = "request_call"  # an outbound call, placed in waking hours
    ADD_COMMITMENT = "add_commitment"  # the text's argument, proposed by them
    CHANGE_COMMITMENT = "change_commitment"  # they propose new wording
    AGREE = "agree"  # they agree every commitment waiting for them
    SEND_AGREEMENT = "send_agreement"  # list what waits and ask AGREE or CHANGE
    ANSWER_CHECKIN = "answer_checkin"  # `results` and `note` answer the open check-in
    CLARIFIED = "clarified"  # the open check-in has had its one clarifying question
    NOTE_ON_CHECKIN = "note_on_checkin"  # the text is kept on the open check-in
    SEND_INVITATION = "send_invitation"  # the consent request, at most once a day
    RESEND_PROMPT = "resend_prompt"  # the open prompt of steps 1-2, again
    START_CHECKINS = "start_checkins"  # step 5 begins: the first check-in is scheduled
    CANCEL_PROMPT_TEXT = "cancel_prompt_text"  # a prompt still waiting to be texted
    STOP_SCHEDULES = "stop_schedules"  # open check-ins cancelled, nothing more scheduled


@dataclass(frozen=True)
class OpenCheckIn:
    """The check-in an answer now would go to."""

    commitments: int
    clarified: bool = False


@dataclass(frozen=True)
class State:
    """What the rules read about one participant (the caller loads it)."""

    status: ParticipantStatus
    step: int = Step.NAMING
    prompt: str | None = None
    prompt_open: bool = False  # the prompt's text has gone out (not waiting for morning)
    consented: bool = False
    waiting: int = 0  # commitments waiting for their agreement
    all_live: bool = False  # they have commitments, and every one is live
    changeable: int = 0  # commitments a CHANGE may name
    checkin: OpenCheckIn | None = None
    morning: bool = False  # the program sends the next question the next morning
    reminded_at: datetime | None = None  # the last who-and-how answer before consent
    invited_today: bool = False  # the invitation already went out today


@dataclass(frozen=True)
class Ask:
    """A prompt we start (not a reply): it waits for waking hours, or for the morning.
    `delay`: the text follows a little later, while the question is open at once (asked
    on a call, it is texted too in case they hang up)."""

    template: str
    paced: bool = True
    delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class Flag:
    kind: AttentionKind
    detail: str


@dataclass
class Decision:
    outcome: str
    status: ParticipantStatus | None = None
    step: int | None = None
    prompt: str | None = None
    clear_prompt: bool = False
    sets: dict[str, object] = field(default_factory=dict)  # other fields: consent_at, …
    replies: list[str] = field(default_factory=list)
    asks: list[Ask] = field(default_factory=list)
    keep: StatementKind | None = None  # keep the text as a statement of this kind
    keep_body: str | None = None  # …with these words instead of the whole text
    keep_step: int | None = None  # …under this step (default: the one they are in)
    flags: list[Flag] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    effects: dict[Effect, object] = field(default_factory=dict)
    refused: str | None = None  # a facilitator action that cannot happen, and why


@dataclass(frozen=True)
class Text:
    """An inbound text, as the rules see it."""

    body: str = ""
    keyword: Keyword | None = None
    media: bool = False

    @property
    def event(self) -> Event:
        if self.keyword is not None:
            return EVENT_OF_KEYWORD[self.keyword.kind]
        if self.body.strip():
            return Event.TEXT
        return Event.MEDIA if self.media else Event.TEXT
