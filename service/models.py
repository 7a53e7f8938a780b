"""The data model for the whole program: who, what they said, what was sent.

Every instant is stored as UTC. SQLite hands back naive datetimes even for
`DateTime(timezone=True)`, so `UTCDateTime` normalises at this one boundary.

Ids are never reused: an old audit row must not come to point at someone else once a
participant is erased. PostgreSQL's sequences never hand an id out twice; on SQLite the
tables whose rows an audit event can name are AUTOINCREMENT (`NEVER_REUSED`), since SQLite
otherwise hands the highest id out again once its row is deleted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Field, SQLModel

from service.core.enums import (
    CallStatus,
    Channel,
    CheckInKind,
    CheckInStatus,
    CommitmentStatus,
    Language,
    MessageStatus,
    Pacing,
    ParticipantStatus,
    ProgramStatus,
    ProposedBy,
    RecordingPurpose,
    RecordingStatus,
    Role,
    TranscriptStatus,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware-UTC datetime on every database (SQLite returns naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        # SQLite stores text; keep it naive-UTC there so comparisons sort correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite: ids are never handed out twice (see the module docstring).
NEVER_REUSED = {"sqlite_autoincrement": True}


def _ts(**kw):
    return Field(sa_type=UTCDateTime, **kw)


class Facilitator(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=120)
    contact: str = Field(default="", max_length=120)
    phone: str | None = Field(default=None, max_length=16)  # E.164: the daily digest's number
    timezone: str = Field(default="UTC", max_length=64)
    # The admin's language for them ("en", "es"); None: whatever their browser asks for.
    language: str | None = Field(default=None, max_length=8)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.FACILITATOR, max_length=16)
    is_active: bool = True
    created_at: datetime = _ts(default_factory=utcnow)
    last_login_at: datetime | None = _ts(default=None)

    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'facilitator')", name="ck_role"),)


class Program(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    owner_id: int = Field(foreign_key="facilitator.id", index=True)
    sender_number: str | None = Field(default=None, max_length=16, index=True)
    messaging_service_sid: str | None = Field(default=None, max_length=34)
    timezone: str = Field(default="UTC", max_length=64)
    language: str = Field(default=Language.EN, max_length=8)
    country: str = Field(default="US", max_length=2)  # ISO 3166 alpha-2: national numbers
    cadence: str = Field(default="daily@19:00", max_length=64)
    quiet_start: str = Field(default="08:00", max_length=5)
    quiet_end: str = Field(default="21:00", max_length=5)
    pacing: str = Field(default=Pacing.IMMEDIATE, max_length=16)
    start_date: date | None = None
    end_date: date | None = None
    options: dict = Field(default_factory=dict, sa_type=JSON)
    text_overrides: dict = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=ProgramStatus.ACTIVE, max_length=16)
    outcome: str | None = Field(default=None, max_length=16)
    closing_message: str | None = None
    closed_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)

    __table_args__ = (
        sa.CheckConstraint("pacing IN ('immediate', 'morning')", name="ck_pacing"),
        sa.CheckConstraint("status IN ('active', 'closed')", name="ck_program_status"),
    )


class ProgramFacilitator(SQLModel, table=True):
    """Co-facilitators of a program (the owner always has access)."""

    program_id: int = Field(foreign_key="program.id", primary_key=True)
    facilitator_id: int = Field(foreign_key="facilitator.id", primary_key=True)


class Participant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    name: str = Field(max_length=120)
    phone: str = Field(max_length=16, index=True)
    timezone: str = Field(default="UTC", max_length=64)
    language: str = Field(default=Language.EN, max_length=8)
    status: str = Field(default=ParticipantStatus.INVITED, max_length=16)
    step: int = 1
    prompt: str | None = Field(default=None, max_length=40)
    prompt_due_at: datetime | None = _ts(default=None)
    partner_id: int | None = Field(default=None, foreign_key="participant.id")
    share_with_partner: bool = False
    text_turns: dict = Field(default_factory=dict, sa_type=JSON)  # message bank: last wording
    # The trust ladder's rung, when it has moved them off the program's cadence.
    current_cadence: str | None = Field(default=None, max_length=64)
    next_checkin_at: datetime | None = _ts(default=None, index=True)
    next_partner_checkin_at: datetime | None = _ts(default=None, index=True)
    streak: int = 0
    consent_at: datetime | None = _ts(default=None)
    opted_out_at: datetime | None = _ts(default=None)
    paused_at: datetime | None = _ts(default=None)
    closed_at: datetime | None = _ts(default=None)
    outcome: str | None = Field(default=None, max_length=16)
    last_inbound_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    # Set on every change to the row (ORM and Core updates alike): the API's
    # `updated_since` filter reads it.
    updated_at: datetime = _ts(
        default_factory=utcnow,
        index=True,
        sa_column_kwargs={"onupdate": utcnow, "server_default": sa.func.now()},
    )

    __table_args__ = (
        sa.UniqueConstraint("program_id", "phone", name="uq_participant_program_phone"),
        sa.CheckConstraint("step BETWEEN 1 AND 5", name="ck_step"),
        sa.CheckConstraint(
            "status IN ('invited', 'active', 'paused', 'opted_out', 'undeliverable', 'closed')",
            name="ck_participant_status",
        ),
        sa.CheckConstraint("partner_id IS NULL OR partner_id <> id", name="ck_partner_not_self"),
        # The participants list's sorts (each then by id: admin/participants.py).
        sa.Index("ix_participant_name_id", "name", "id"),
        sa.Index("ix_participant_step_id", "step", "id"),
        sa.Index("ix_participant_status_id", "status", "id"),
        sa.Index("ix_participant_streak_id", "streak", "id"),
        sa.Index("ix_participant_last_inbound_id", "last_inbound_at", "id"),
        # Search by any part of a name or number (ILIKE '%…%'): trigrams, PostgreSQL only.
        *(
            sa.Index(
                f"ix_participant_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            ).ddl_if(dialect="postgresql")
            for column in ("name", "phone")
        ),
        NEVER_REUSED,
    )


UNREAD = "direction = 'in' AND seen_at IS NULL"


class Message(SQLModel, table=True):
    """Every inbound and outbound text. Outbound rows are the outbox."""

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)
    program_id: int | None = Field(default=None, foreign_key="program.id", index=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    twilio_sid: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    idempotency_key: str | None = Field(
        default=None, max_length=128, sa_column_kwargs={"unique": True}
    )
    from_number: str = Field(default="", max_length=32)
    to_number: str = Field(default="", max_length=32)
    messaging_service_sid: str | None = Field(default=None, max_length=34)
    body: str = ""
    # `default=[]`, not `default_factory=list`: each object built with a default factory
    # costs an inspect.signature of it (pydantic's FieldInfo.get_default, the same uncached
    # check as pydantic#13376), a fifth of a turn's time; pydantic copies the empty list.
    media_urls: list = Field(default=[], sa_type=JSON)
    template: str | None = Field(default=None, max_length=40)
    status: str = Field(default=MessageStatus.PENDING, max_length=16)
    error_code: int | None = None
    attempts: int = 0
    send_after: datetime | None = _ts(default=None)
    claimed_at: datetime | None = _ts(default=None)
    # Since when Twilio has been failing for this row (transient errors); None once sent.
    failing_since: datetime | None = _ts(default=None)
    # When Twilio was last asked about a sent row that had no final status yet.
    checked_at: datetime | None = _ts(default=None)
    sent_at: datetime | None = _ts(default=None)
    # An inbound text stays in the facilitators' inbox until one of them marks it read.
    seen_at: datetime | None = _ts(default=None)
    seen_by_id: int | None = Field(default=None, foreign_key="facilitator.id")
    # A test persona's text (to or from one), marked when the row is written: the real
    # gateway's claim never takes it; it goes to the console (service/core/personas.py).
    simulated: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = _ts(default_factory=utcnow, index=True)
    updated_at: datetime = _ts(default_factory=utcnow)

    __table_args__ = (
        sa.CheckConstraint("direction IN ('in', 'out')", name="ck_direction"),
        sa.Index("ix_message_outbox", "status", "send_after"),
        # The inbox and its unread count in the menu read only unread inbound texts.
        sa.Index(
            "ix_message_unread",
            "program_id",
            "created_at",
            postgresql_where=sa.text(UNREAD),
            sqlite_where=sa.text(UNREAD),
        ),
        # A participant's thread, newest first a page at a time; texts nobody matched.
        sa.Index("ix_message_participant_created", "participant_id", "created_at"),
        NEVER_REUSED,
    )


class ParkedStatus(SQLModel, table=True):
    """A delivery status that arrived before its message's SID was stored: kept, and applied
    when the SID is (the callback can beat the create's own answer)."""

    sid: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=16)
    error_code: int | None = None
    arrived_at: datetime = _ts(default_factory=utcnow, index=True)


class Statement(SQLModel, table=True):
    """One answer a participant gave in step 1 or 2 (or a free note)."""

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    step: int
    kind: str = Field(max_length=24)
    body: str = ""
    channel: str = Field(default=Channel.SMS, max_length=8)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    recording_id: int | None = Field(default=None, foreign_key="reflection.id")
    created_at: datetime = _ts(default_factory=utcnow)

    __table_args__ = (
        sa.CheckConstraint("channel IN ('sms', 'voice')", name="ck_channel"),
        NEVER_REUSED,
    )


class Reflection(SQLModel, table=True):
    """A recording: the step-3 reflection, or a statement given by voice."""

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    purpose: str = Field(default=RecordingPurpose.REFLECTION, max_length=24)
    call_sid: str | None = Field(default=None, max_length=64)
    recording_sid: str | None = Field(
        default=None, max_length=64, sa_column_kwargs={"unique": True}
    )
    recording_url: str | None = None
    duration_s: int | None = None
    storage_path: str | None = None
    transcript: str | None = None
    transcript_status: str = Field(default=TranscriptStatus.PENDING, max_length=16)
    status: str = Field(default=RecordingStatus.RECORDED, max_length=16)
    deleted_at_twilio: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    # Twilio's RecordingStatus (completed, absent, failed) once its callback has arrived.
    recording_status: str | None = Field(default=None, max_length=16)
    # Download/delete tries so far; the sweeper gives up (and flags) after a few.
    attempts: int = 0
    # Set when nothing is left to do: audio stored (or discarded) and Twilio's copy handled.
    settled_at: datetime | None = _ts(default=None, index=True)

    __table_args__ = (NEVER_REUSED,)


class Commitment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    text: str
    label: str = Field(default="", max_length=32)  # short form for the texts that list it
    sign: str = ""
    status: str = Field(default=CommitmentStatus.PROPOSED, max_length=16)
    proposed_by: str = Field(default=ProposedBy.FACILITATOR, max_length=16)
    shared_key: str | None = Field(default=None, max_length=64, index=True)
    # Where the facilitator put it: check-ins list commitments by position, then id.
    position: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    agreed_text: str | None = None
    agreed_at: datetime | None = _ts(default=None)
    live_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('proposed', 'agreed', 'active', 'change_requested', 'retired')",
            name="ck_commitment_status",
        ),
        NEVER_REUSED,
    )


class CheckIn(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    kind: str = Field(default=CheckInKind.SELF, max_length=8)
    due_at: datetime = _ts()
    status: str = Field(default=CheckInStatus.OPEN, max_length=16)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    sent_at: datetime | None = _ts(default=None)
    answered_at: datetime | None = _ts(default=None)
    answer_raw: str | None = None
    note: str | None = None
    subject_id: int | None = Field(default=None, foreign_key="participant.id")
    commitment_ids: list = Field(default=[], sa_type=JSON)  # (see Message.media_urls)
    clarified: bool = False
    nudges_sent: int = 0
    next_nudge_at: datetime | None = _ts(default=None, index=True)
    closes_at: datetime | None = _ts(default=None, index=True)
    created_at: datetime = _ts(default_factory=utcnow)

    __table_args__ = (
        # A person never gets the same check-in twice: one row per due instant.
        sa.UniqueConstraint("participant_id", "kind", "due_at", name="uq_checkin_due"),
        NEVER_REUSED,
    )


class CheckInAnswer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkin.id", index=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    result: str = Field(max_length=8)

    __table_args__ = (
        sa.UniqueConstraint("checkin_id", "commitment_id", name="uq_answer_commitment"),
        sa.CheckConstraint("result IN ('kept', 'missed', 'partly')", name="ck_result"),
    )


class Call(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    direction: str = Field(max_length=3)
    call_sid: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    purpose: str = Field(default="reflection", max_length=24)
    status: str = Field(default=CallStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)

    # The sweeper's query: pending calls whose next attempt is due.
    __table_args__ = (sa.Index("ix_call_due", "status", "next_attempt_at"), NEVER_REUSED)


class AttentionItem(SQLModel, table=True):
    """Something a facilitator should look at today."""

    id: int | None = Field(default=None, primary_key=True)
    program_id: int | None = Field(default=None, foreign_key="program.id", index=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    kind: str = Field(max_length=24)
    detail: str = ""
    created_at: datetime = _ts(default_factory=utcnow)
    resolved_at: datetime | None = _ts(default=None)
    # Out of Today's list until then (a facilitator's "until tomorrow" / "for a week").
    snoozed_until: datetime | None = _ts(default=None)
    # What raised it, shown with it: the text they sent, the recording they left.
    message_id: int | None = Field(default=None, foreign_key="message.id")
    reflection_id: int | None = Field(default=None, foreign_key="reflection.id")
    # A condition raised at most once per participant (one quiet spell: core/attention_rules).
    cause: str | None = Field(default=None, max_length=64)

    __table_args__ = (
        # The dashboard's queue: the open ones, newest first.
        sa.Index("ix_attentionitem_open", "resolved_at", "created_at"),
        sa.UniqueConstraint("participant_id", "cause", name="uq_attention_cause"),
        NEVER_REUSED,
    )


class PendingDeletion(SQLModel, table=True):
    """A copy an erasure left to delete elsewhere: a Twilio resource (by SID) or an audio
    file (by path). Written in the erasure's own transaction, so a crash or a Twilio outage
    cannot forget it; removed once the copy is gone."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    ref: str = Field(max_length=1024)
    program_id: int | None = Field(default=None, foreign_key="program.id")
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(default=None, index=True)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts(default_factory=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("kind", "ref", name="uq_pending_deletion"),
        sa.CheckConstraint(
            "kind IN ('message', 'recording', 'call', 'file')", name="ck_pending_deletion_kind"
        ),
    )


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    entity: str = Field(default="", max_length=32)
    entity_id: int | None = None
    detail: dict = Field(default_factory=dict, sa_type=JSON)

    # A participant's page reads the events about them (its thread), newest first.
    __table_args__ = (sa.Index("ix_auditevent_entity", "entity", "entity_id", "at"),)


class ApiToken(SQLModel, table=True):
    """A facilitator's key to the read API: only its SHA-256 is kept (the token itself is
    shown once), named by its owner, revocable. `scopes` widen what it reads (`phones`)."""

    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int = Field(foreign_key="facilitator.id", index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # The token's first characters, shown in lists so its owner can tell tokens apart.
    prefix: str = Field(max_length=16)
    scopes: list = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _ts(default_factory=utcnow)
    last_used_at: datetime | None = _ts(default=None)
    revoked_at: datetime | None = _ts(default=None)


class WebhookEndpoint(SQLModel, table=True):
    """An HTTPS URL a facilitator has events sent to (about the programs they see), signed
    with its own secret."""

    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int = Field(foreign_key="facilitator.id", index=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=80)
    events: list = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _ts(default_factory=utcnow)
    disabled_at: datetime | None = _ts(default=None)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: the outbox row, written in the event's own transaction
    and sent by a job: claimed before each try, marked sending just before its request
    leaves, so a try whose worker died is sent again only if its request never left."""

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhookendpoint.id", index=True)
    event_id: str = Field(max_length=40)
    event_type: str = Field(max_length=40)
    body: str
    # Whom the event is about (no foreign key: erasing them deletes their deliveries).
    participant_id: int | None = Field(default=None, index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(default=None)
    claimed_at: datetime | None = _ts(default=None)
    # Set (committed) just before a try's request is written: from then on it may have
    # reached the receiver, so a worker taking over a dead claim never sends it again.
    sending_at: datetime | None = _ts(default=None)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    delivered_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_event"),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'unknown')", name="ck_delivery_status"
        ),
    )
