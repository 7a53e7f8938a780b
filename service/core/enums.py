"""Every status, step, kind and outcome the program knows, each with its human label.

The database stores the value ("opted_out"); people read the label ("Opted out"). Members
are `str` enums, so a value read back from a column compares equal to its member. A label
lives here and nowhere else: the admin shows `label(value)`.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Labelled(StrEnum):
    """A str enum whose members carry a label, and where order matters a rank:
    `Member = "value", "Label"` or `Member = "value", "Label", rank`."""

    label: str
    rank: int | None

    def __new__(cls, value: str, label: str, rank: int | None = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.rank = rank
        return member

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class ParticipantStatus(Labelled):
    INVITED = "invited", "Invited, not yet agreed"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    OPTED_OUT = "opted_out", "Opted out"
    UNDELIVERABLE = "undeliverable", "Texts can't reach them"
    CLOSED = "closed", "Closed"


# Nothing at all is texted to these (the closing text itself excepted).
NOT_TEXTED = frozenset(
    {ParticipantStatus.OPTED_OUT, ParticipantStatus.UNDELIVERABLE, ParticipantStatus.CLOSED}
)


class Channel(Labelled):
    SMS = "sms", "Text"
    VOICE = "voice", "Voice"


class Direction(Labelled):
    IN = "in", "Received"
    OUT = "out", "Sent"


class Step(IntEnum):
    """The five steps, in order."""

    NAMING = 1
    RESPONSIBILITY = 2
    LISTENING = 3
    COMMITMENTS = 4
    LIVING = 5

    @property
    def label(self) -> str:
        return f"{self.value}. {STEP_LABELS[self]}"


STEP_LABELS = {
    Step.NAMING: "Naming the misalignment",
    Step.RESPONSIBILITY: "Taking responsibility",
    Step.LISTENING: "Listening deeply",
    Step.COMMITMENTS: "Agreeing on new commitments",
    Step.LIVING: "Living the alignment",
}


class Prompt(Labelled):
    """What a participant is being asked: the questions of steps 1 and 2, and agreement."""

    WHAT_HAPPENED = "step1_what_happened", "What happened"
    EMOTIONS = "step1_emotions", "The emotions involved"
    PATTERN = "step1_pattern", "Whether it repeats a pattern"
    RESPONSIBILITY = "step2_responsibility", "Their own part"
    AGREE = "agree", "Agreement to the commitments"


class StatementKind(Labelled):
    """What a kept statement is: the answer to one of steps 1-2's questions (its rank is
    the step), or something else they said."""

    WHAT_HAPPENED = "what_happened", "What happened", 1
    EMOTIONS = "emotions", "Emotions", 1
    PATTERN = "pattern", "An older pattern?", 1
    RESPONSIBILITY = "responsibility", "Their own part", 2
    NOTE = "note", "Note"
    MEDIA = "media", "Picture or file"
    HEADSUP = "headsup", "Heads-up: a promise at risk"
    CHANGE_REQUEST = "change_request", "Asked to change a commitment"


class MessageStatus(Labelled):
    """An outbound text moves forward only (its rank); Twilio's callbacks may arrive late,
    twice or out of order and never move it back."""

    PENDING = "pending", "Waiting to be sent", 0
    CLAIMED = "claimed", "Being sent", 1
    CONSOLE = "console", "Recorded here only, not sent", 2
    ACCEPTED = "accepted", "Accepted by Twilio", 2
    SCHEDULED = "scheduled", "Scheduled at Twilio", 2
    QUEUED = "queued", "Queued at Twilio", 3
    SENDING = "sending", "Sending", 4
    SENT = "sent", "Sent", 5
    DELIVERED = "delivered", "Delivered", 6
    READ = "read", "Read", 7
    UNDELIVERED = "undelivered", "Not delivered", 6
    FAILED = "failed", "Failed", 6
    CANCELLED = "cancelled", "Not sent (cancelled)", 6
    CANCELED = "canceled", "Cancelled at Twilio", 6
    EXPIRED = "expired", "Not sent: its day was over before Twilio could take it", 6
    RECEIVED = "received", "Received, not yet read"
    TURNING = "turning", "Received, being read"
    PROCESSED = "processed", "Received"


class CheckInStatus(Labelled):
    OPEN = "open", "Waiting for an answer"
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"
    UNSENT = "unsent", "Not sent: Twilio could not be reached that day"


class CheckInKind(Labelled):
    SELF = "self", "Their own check-in"
    PARTNER = "partner", "About their partner"


class ApiScope(Labelled):
    """What an API token may read beyond what its facilitator sees in the admin."""

    PHONES = "phones", "Full phone numbers"


class WebhookEvent(Labelled):
    """What an event webhook can be sent about."""

    PARTICIPANT_ENROLLED = "participant.enrolled", "A participant was enrolled"
    PARTICIPANT_CONSENTED = "participant.consented", "A participant agreed to take part"
    PARTICIPANT_STEP_CHANGED = "participant.step_changed", "A participant moved to another step"
    PARTICIPANT_OPTED_OUT = "participant.opted_out", "A participant opted out"
    PARTICIPANT_CLOSED = "participant.closed", "A participant's program was closed for them"
    STATEMENT_RECORDED = "statement.recorded", "A participant said something that was kept"
    COMMITMENT_AGREED = "commitment.agreed", "A participant agreed to a commitment"
    CHECKIN_ANSWERED = "checkin.answered", "A check-in was answered"
    CHECKIN_MISSED = "checkin.missed", "A check-in's day ended unanswered"
    REFLECTION_RECORDED = "reflection.recorded", "A participant kept a recording"
    ATTENTION_RAISED = "attention.raised", "Something needs a facilitator's attention"


class DeliveryStatus(Labelled):
    """Where an event webhook delivery stands (the delivery log's State)."""

    PENDING = "pending", "Waiting"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    # Its worker stopped after the request may have left: never sent again by itself.
    UNKNOWN = "unknown", "Not known: it may have arrived"


class Result(Labelled):
    KEPT = "kept", "Kept"
    PARTLY = "partly", "Partly"
    MISSED = "missed", "Not kept"


class CommitmentStatus(Labelled):
    PROPOSED = "proposed", "Waiting for agreement"
    AGREED = "agreed", "Agreed, waiting for their partner"
    ACTIVE = "active", "Active"
    CHANGE_REQUESTED = "change_requested", "Change asked for"
    RETIRED = "retired", "Retired"


# Commitments still in play (not retired).
OPEN_COMMITMENTS = (
    CommitmentStatus.PROPOSED,
    CommitmentStatus.AGREED,
    CommitmentStatus.ACTIVE,
    CommitmentStatus.CHANGE_REQUESTED,
)


class ProposedBy(Labelled):
    FACILITATOR = "facilitator", "The facilitator"
    PARTICIPANT = "participant", "The participant"


class Outcome(Labelled):
    RESTORED = "restored", "Restored: trust is repaired"
    ENDED = "ended", "A clear ending"


class ProgramStatus(Labelled):
    ACTIVE = "active", "Running"
    CLOSED = "closed", "Closed"


class Pacing(Labelled):
    IMMEDIATE = "immediate", "Next question right after an answer"
    MORNING = "morning", "Next question the next morning"


class Language(Labelled):
    EN = "en", "English"
    ES = "es", "Español"


class Role(Labelled):
    FACILITATOR = "facilitator", "Facilitator"
    ADMIN = "admin", "Admin"


class AttentionKind(Labelled):
    """Why a facilitator should look at someone today; rank 1 is the most urgent."""

    OPTED_OUT = "opted_out", "Opted out", 1
    HEADSUP = "headsup", "A promise is at risk", 1
    CALL_REQUESTED = "call_requested", "Asked for a call", 1
    DISAGREEMENT = "disagreement", "Partners see it differently", 2
    MISSED_RUN = "missed_run", "Missed check-ins in a row", 2
    QUIET = "quiet", "Gone quiet", 2
    UNDELIVERABLE = "undeliverable", "Texts can't reach them", 2
    CALL_FAILED = "call_failed", "A call did not get through", 2
    RECORDING_PROBLEM = "recording_problem", "A recording could not be kept", 2
    SEND_FAILED = "send_failed", "A text could not be sent", 2
    ERASURE_PENDING = "erasure_pending", "An erasure's copies at Twilio are not deleted yet", 2
    COMMITMENT_CHANGE = "commitment_change", "Asks to change a commitment", 3
    REFLECTION = "reflection", "New reflection", 3
    VOICE_MESSAGE = "voice_message", "Left a voice message", 3
    PAUSED = "paused", "Asked for a pause", 4
    RESUMED = "resumed", "Back after a pause", 4
    AFTER_CLOSURE = "after_closure", "Texted after their program closed", 4
    REJOINED = "rejoined", "Rejoined after being erased", 4
    UNMATCHED = "unmatched", "Text from an unknown number", 3
    WEBHOOK_FAILING = "webhook_failing", "A webhook receiver has failed for a day", 3


class LeftoverKind(Labelled):
    """A copy an erasure still has to delete after its transaction: at Twilio or on disk."""

    MESSAGE = "message", "A text at Twilio (and its media)"
    RECORDING = "recording", "A recording at Twilio"
    CALL = "call", "A call at Twilio (and its recordings)"
    FILE = "file", "A recording file on disk"


class CallDirection(Labelled):
    IN = "in", "They called"
    OUT = "out", "We called"


class CallStatus(Labelled):
    """A call in flight moves forward only (its rank); then it ends one way or another."""

    PENDING = "pending", "Waiting for waking hours"
    CLAIMED = "claimed", "Being placed", 0
    QUEUED = "queued", "Queued at Twilio", 1
    INITIATED = "initiated", "Dialling", 2
    RINGING = "ringing", "Ringing", 3
    IN_PROGRESS = "in-progress", "In progress", 4
    COMPLETED = "completed", "Completed"
    BUSY = "busy", "Busy"
    NO_ANSWER = "no-answer", "No answer"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Cancelled at Twilio"
    CANCELLED = "cancelled", "Cancelled"
    UNKNOWN = "unknown", "Outcome unknown"
    CONSOLE = "console", "Recorded here only, not placed"


class RecordingPurpose(Labelled):
    """What a recording on a call was made for (the question asked before the beep)."""

    REFLECTION = "reflection", "Reflection (step 3)"
    WHAT_HAPPENED = "what_happened", "Spoken answer: what happened"
    EMOTIONS = "emotions", "Spoken answer: emotions"
    PATTERN = "pattern", "Spoken answer: an older pattern?"
    RESPONSIBILITY = "responsibility", "Spoken answer: their own part"
    NOTE = "note", "Voice message"


class RecordingStatus(Labelled):
    RECORDED = "recorded", "Recorded, not yet kept"
    KEPT = "kept", "Kept"
    DISCARDED = "discarded", "Recorded again"
    EMPTY = "empty", "Nothing was heard"


class TranscriptStatus(Labelled):
    PENDING = "pending", "Transcript on its way"
    NONE = "none", "No transcript (too long, or not English)"
    COMPLETED = "completed", "Transcribed"
    FAILED = "failed", "Transcription failed"


# Every labelled enum by the name templates use: `label("participant_status", value)`.
ENUMS: dict[str, type[Labelled]] = {
    "participant_status": ParticipantStatus,
    "prompt": Prompt,
    "statement_kind": StatementKind,
    "channel": Channel,
    "direction": Direction,
    "message_status": MessageStatus,
    "checkin_status": CheckInStatus,
    "checkin_kind": CheckInKind,
    "result": Result,
    "commitment_status": CommitmentStatus,
    "proposed_by": ProposedBy,
    "outcome": Outcome,
    "program_status": ProgramStatus,
    "pacing": Pacing,
    "language": Language,
    "role": Role,
    "attention_kind": AttentionKind,
    "call_status": CallStatus,
    "call_direction": CallDirection,
    "recording_purpose": RecordingPurpose,
    "recording_status": RecordingStatus,
    "transcript_status": TranscriptStatus,
    "webhook_event": WebhookEvent,
    "delivery_status": DeliveryStatus,
}


def label(kind: str, value) -> str:
    """The human label of `value` (a member or its stored value); "" for None. An unknown
    value (an old row) reads as words, never as a key."""
    if value is None or value == "":
        return ""
    if kind == "step":
        try:
            return Step(int(value)).label
        except ValueError:
            return str(value)
    try:
        return ENUMS[kind](value).label
    except ValueError:
        return str(value).replace("_", " ").replace("-", " ").capitalize()
