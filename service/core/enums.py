"""Every status, step, kind and outcome the program knows, each with its human label.

The database stores the value ("opted_out"); people read the label ("Opted out"). Members
are `str` enums, so a value read back from a column compares equal to its member. A label
lives here and nowhere else: the admin shows `label(value)`.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


def N_(text: str) -> str:
    """Marks a label for translation and returns it as it is: Babel's extraction finds it
    (babel.cfg), and the admin translates the label when it shows it (admin/i18n.py)."""
    return text


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
    INVITED = "invited", N_("Invited, not yet agreed")
    ACTIVE = "active", N_("Active")
    PAUSED = "paused", N_("Paused")
    OPTED_OUT = "opted_out", N_("Opted out")
    UNDELIVERABLE = "undeliverable", N_("Texts can't reach them")
    CLOSED = "closed", N_("Closed")


# Nothing at all is texted to these (the closing text itself excepted).
NOT_TEXTED = frozenset(
    {ParticipantStatus.OPTED_OUT, ParticipantStatus.UNDELIVERABLE, ParticipantStatus.CLOSED}
)


class Channel(Labelled):
    SMS = "sms", N_("Text")
    VOICE = "voice", N_("Voice")


class Direction(Labelled):
    IN = "in", N_("Received")
    OUT = "out", N_("Sent")


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
    Step.NAMING: N_("Naming the misalignment"),
    Step.RESPONSIBILITY: N_("Taking responsibility"),
    Step.LISTENING: N_("Listening deeply"),
    Step.COMMITMENTS: N_("Agreeing on new commitments"),
    Step.LIVING: N_("Living the alignment"),
}


class Prompt(Labelled):
    """What a participant is being asked: the questions of steps 1 and 2, and agreement."""

    WHAT_HAPPENED = "step1_what_happened", N_("What happened")
    EMOTIONS = "step1_emotions", N_("The emotions involved")
    PATTERN = "step1_pattern", N_("Whether it repeats a pattern")
    RESPONSIBILITY = "step2_responsibility", N_("Their own part")
    AGREE = "agree", N_("Agreement to the commitments")


class StatementKind(Labelled):
    """What a kept statement is: the answer to one of steps 1-2's questions (its rank is
    the step), or something else they said."""

    WHAT_HAPPENED = "what_happened", N_("What happened"), 1
    EMOTIONS = "emotions", N_("Emotions"), 1
    PATTERN = "pattern", N_("An older pattern?"), 1
    RESPONSIBILITY = "responsibility", N_("Their own part"), 2
    NOTE = "note", N_("Note")
    MEDIA = "media", N_("Picture or file")
    HEADSUP = "headsup", N_("Heads-up: a promise at risk")
    CHANGE_REQUEST = "change_request", N_("Asked to change a commitment")


class MessageStatus(Labelled):
    """An outbound text moves forward only (its rank); Twilio's callbacks may arrive late,
    twice or out of order and never move it back."""

    PENDING = "pending", N_("Waiting to be sent"), 0
    CLAIMED = "claimed", N_("Being sent"), 1
    CONSOLE = "console", N_("Recorded here only, not sent"), 2
    ACCEPTED = "accepted", N_("Accepted by Twilio"), 2
    SCHEDULED = "scheduled", N_("Scheduled at Twilio"), 2
    QUEUED = "queued", N_("Queued at Twilio"), 3
    SENDING = "sending", N_("Sending"), 4
    SENT = "sent", N_("Sent"), 5
    DELIVERED = "delivered", N_("Delivered"), 6
    READ = "read", N_("Read"), 7
    UNDELIVERED = "undelivered", N_("Not delivered"), 6
    FAILED = "failed", N_("Failed"), 6
    CANCELLED = "cancelled", N_("Not sent (cancelled)"), 6
    CANCELED = "canceled", N_("Cancelled at Twilio"), 6
    EXPIRED = "expired", N_("Not sent: its day was over before Twilio could take it"), 6
    RECEIVED = "received", N_("Received, not yet read")
    TURNING = "turning", N_("Received, being read")
    PROCESSED = "processed", N_("Received")


class CheckInStatus(Labelled):
    OPEN = "open", N_("Waiting for an answer")
    ANSWERED = "answered", N_("Answered")
    MISSED = "missed", N_("Missed")
    CANCELLED = "cancelled", N_("Cancelled")
    UNSENT = "unsent", N_("Not sent: Twilio could not be reached that day")


class CheckInKind(Labelled):
    SELF = "self", N_("Their own check-in")
    PARTNER = "partner", N_("About their partner")


class ApiScope(Labelled):
    """What an API token may read beyond what its facilitator sees in the admin."""

    PHONES = "phones", N_("Full phone numbers")


class WebhookEvent(Labelled):
    """What an event webhook can be sent about."""

    PARTICIPANT_ENROLLED = "participant.enrolled", N_("A participant was enrolled")
    PARTICIPANT_CONSENTED = "participant.consented", N_("A participant agreed to take part")
    PARTICIPANT_STEP_CHANGED = "participant.step_changed", N_("A participant moved to another step")
    PARTICIPANT_OPTED_OUT = "participant.opted_out", N_("A participant opted out")
    PARTICIPANT_CLOSED = "participant.closed", N_("A participant's program was closed for them")
    STATEMENT_RECORDED = "statement.recorded", N_("A participant said something that was kept")
    COMMITMENT_AGREED = "commitment.agreed", N_("A participant agreed to a commitment")
    CHECKIN_ANSWERED = "checkin.answered", N_("A check-in was answered")
    CHECKIN_MISSED = "checkin.missed", N_("A check-in's day ended unanswered")
    REFLECTION_RECORDED = "reflection.recorded", N_("A participant kept a recording")
    ATTENTION_RAISED = "attention.raised", N_("Something needs a facilitator's attention")


class DeliveryStatus(Labelled):
    """Where an event webhook delivery stands (the delivery log's State)."""

    PENDING = "pending", "Waiting"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    # Its worker stopped after the request may have left: never sent again by itself.
    UNKNOWN = "unknown", "Not known: it may have arrived"


class Result(Labelled):
    KEPT = "kept", N_("Kept")
    PARTLY = "partly", N_("Partly")
    MISSED = "missed", N_("Not kept")


class CommitmentStatus(Labelled):
    PROPOSED = "proposed", N_("Waiting for agreement")
    AGREED = "agreed", N_("Agreed, waiting for their partner")
    ACTIVE = "active", N_("Active")
    CHANGE_REQUESTED = "change_requested", N_("Change asked for")
    RETIRED = "retired", N_("Retired")


# Commitments still in play (not retired).
OPEN_COMMITMENTS = (
    CommitmentStatus.PROPOSED,
    CommitmentStatus.AGREED,
    CommitmentStatus.ACTIVE,
    CommitmentStatus.CHANGE_REQUESTED,
)


class ProposedBy(Labelled):
    FACILITATOR = "facilitator", N_("The facilitator")
    PARTICIPANT = "participant", N_("The participant")


class Outcome(Labelled):
    RESTORED = "restored", N_("Restored: trust is repaired")
    ENDED = "ended", N_("A clear ending")


class ProgramStatus(Labelled):
    ACTIVE = "active", N_("Running")
    CLOSED = "closed", N_("Closed")


class Pacing(Labelled):
    IMMEDIATE = "immediate", N_("Next question right after an answer")
    MORNING = "morning", N_("Next question the next morning")


class Language(Labelled):
    EN = "en", N_("English")
    ES = "es", N_("Español")


class Role(Labelled):
    FACILITATOR = "facilitator", N_("Facilitator")
    ADMIN = "admin", N_("Admin")


class AttentionKind(Labelled):
    """Why a facilitator should look at someone today; rank 1 is the most urgent."""

    OPTED_OUT = "opted_out", N_("Opted out"), 1
    HEADSUP = "headsup", N_("A promise is at risk"), 1
    CALL_REQUESTED = "call_requested", N_("Asked for a call"), 1
    DISAGREEMENT = "disagreement", N_("Partners see it differently"), 2
    MISSED_RUN = "missed_run", N_("Missed check-ins in a row"), 2
    QUIET = "quiet", N_("Gone quiet"), 2
    UNDELIVERABLE = "undeliverable", N_("Texts can't reach them"), 2
    CALL_FAILED = "call_failed", N_("A call did not get through"), 2
    RECORDING_PROBLEM = "recording_problem", N_("A recording could not be kept"), 2
    SEND_FAILED = "send_failed", N_("A text could not be sent"), 2
    ERASURE_PENDING = "erasure_pending", N_("An erasure's copies at Twilio are not deleted yet"), 2
    COMMITMENT_CHANGE = "commitment_change", N_("Asks to change a commitment"), 3
    REFLECTION = "reflection", N_("New reflection"), 3
    VOICE_MESSAGE = "voice_message", N_("Left a voice message"), 3
    PAUSED = "paused", N_("Asked for a pause"), 4
    RESUMED = "resumed", N_("Back after a pause"), 4
    AFTER_CLOSURE = "after_closure", N_("Texted after their program closed"), 4
    REJOINED = "rejoined", N_("Rejoined after being erased"), 4
    UNMATCHED = "unmatched", N_("Text from an unknown number"), 3
    WEBHOOK_FAILING = "webhook_failing", N_("A webhook receiver has failed for a day"), 3


class LeftoverKind(Labelled):
    """A copy an erasure still has to delete after its transaction: at Twilio or on disk."""

    MESSAGE = "message", N_("A text at Twilio (and its media)")
    RECORDING = "recording", N_("A recording at Twilio")
    CALL = "call", N_("A call at Twilio (and its recordings)")
    FILE = "file", N_("A recording file on disk")


class CallDirection(Labelled):
    IN = "in", N_("They called")
    OUT = "out", N_("We called")


class CallStatus(Labelled):
    """A call in flight moves forward only (its rank); then it ends one way or another."""

    PENDING = "pending", N_("Waiting for waking hours")
    CLAIMED = "claimed", N_("Being placed"), 0
    QUEUED = "queued", N_("Queued at Twilio"), 1
    INITIATED = "initiated", N_("Dialling"), 2
    RINGING = "ringing", N_("Ringing"), 3
    IN_PROGRESS = "in-progress", N_("In progress"), 4
    COMPLETED = "completed", N_("Completed")
    BUSY = "busy", N_("Busy")
    NO_ANSWER = "no-answer", N_("No answer")
    FAILED = "failed", N_("Failed")
    CANCELED = "canceled", N_("Cancelled at Twilio")
    CANCELLED = "cancelled", N_("Cancelled")
    UNKNOWN = "unknown", N_("Outcome unknown")
    CONSOLE = "console", N_("Recorded here only, not placed")


class RecordingPurpose(Labelled):
    """What a recording on a call was made for (the question asked before the beep)."""

    REFLECTION = "reflection", N_("Reflection (step 3)")
    WHAT_HAPPENED = "what_happened", N_("Spoken answer: what happened")
    EMOTIONS = "emotions", N_("Spoken answer: emotions")
    PATTERN = "pattern", N_("Spoken answer: an older pattern?")
    RESPONSIBILITY = "responsibility", N_("Spoken answer: their own part")
    NOTE = "note", N_("Voice message")


class RecordingStatus(Labelled):
    RECORDED = "recorded", N_("Recorded, not yet kept")
    KEPT = "kept", N_("Kept")
    DISCARDED = "discarded", N_("Recorded again")
    EMPTY = "empty", N_("Nothing was heard")


class TranscriptStatus(Labelled):
    PENDING = "pending", N_("Transcript on its way")
    NONE = "none", N_("No transcript (too long, or not English)")
    COMPLETED = "completed", N_("Transcribed")
    FAILED = "failed", N_("Transcription failed")


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
