"""The read API's shapes: one pydantic model per thing it answers, and per list's query
parameters. The same models serialise every response (and the resource in each event
webhook) and make the OpenAPI document (readapi/registry.py), so they cannot drift apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.core import cursors
from service.core.enums import (
    CheckInStatus,
    ParticipantStatus,
    Result,
    label,
)
from service.core.redact import mask_phone
from service.models import (
    AttentionItem,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)

MAX_ID = cursors.MAX_ID


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Times ---------------------------------------------------------------------------------


class Instant(Shape):
    """An instant in UTC, and the same instant on the participant's (or program's) clock."""

    utc: str = Field(json_schema_extra={"format": "date-time"}, examples=["2026-03-03T15:00:00Z"])
    local: str = Field(
        json_schema_extra={"format": "date-time"}, examples=["2026-03-03T10:00:00-05:00"]
    )


def _zone(name: str | None):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def instant(value: datetime | None, zone: str | None) -> Instant | None:
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return Instant(
        utc=utc.isoformat().replace("+00:00", "Z"),
        local=utc.astimezone(_zone(zone)).isoformat(),
    )


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


# Query parameters ----------------------------------------------------------------------


class PageQuery(Shape):
    limit: int = Field(
        cursors.DEFAULT_LIMIT, ge=1, le=cursors.MAX_LIMIT, description="Rows per page (1-500)."
    )
    cursor: str | None = Field(
        None, max_length=40, description="The `next` link's cursor: the page after the last one."
    )

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, v: str | None) -> str | None:
        if v is not None:
            cursors.decode(v)
        return v

    def after(self) -> int | None:
        return cursors.decode(self.cursor) if self.cursor else None


def _utc(value: datetime | None) -> datetime | None:
    """A time given without an offset is read as UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None


class ProgramQuery(PageQuery):
    pass


class ParticipantQuery(PageQuery):
    program: int | None = Field(None, ge=1, le=MAX_ID, description="Only this program's.")
    step: int | None = Field(None, ge=1, le=5, description="Only those at this step (1-5).")
    status: ParticipantStatus | None = Field(None, description="Only those with this status.")
    updated_since: datetime | None = Field(
        None, description="Only those changed at or after this time (ISO 8601; UTC if no offset)."
    )

    _updated = field_validator("updated_since")(lambda cls, v: _utc(v))


class CheckInQuery(PageQuery):
    program: int | None = Field(None, ge=1, le=MAX_ID, description="Only this program's.")
    participant: int | None = Field(None, ge=1, le=MAX_ID, description="Only this person's.")
    due_from: datetime | None = Field(None, description="Due at or after (ISO 8601 or a date).")
    due_to: datetime | None = Field(None, description="Due before (ISO 8601 or a date).")
    status: CheckInStatus | None = Field(None, description="Only check-ins in this state.")
    result: Result | None = Field(
        None, description="Only check-ins where at least one commitment had this result."
    )

    _due = field_validator("due_from", "due_to")(lambda cls, v: _utc(v))


class AttentionQuery(PageQuery):
    program: int | None = Field(None, ge=1, le=MAX_ID, description="Only this program's.")
    participant: int | None = Field(None, ge=1, le=MAX_ID, description="Only about this person.")
    state: str = Field(
        "open",
        pattern="^(open|resolved|all)$",
        json_schema_extra={"enum": ["open", "resolved", "all"]},
        description="open (the default), resolved or all.",
    )

    def open_only(self) -> bool | None:
        return {"open": True, "resolved": False}.get(self.state)


class AudioQuery(Shape):
    token: int = Field(ge=1, le=MAX_ID)
    expires: int = Field(ge=0, le=2**40)
    signature: str = Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")


# Resources -----------------------------------------------------------------------------


class ProgramOut(Shape):
    id: int
    name: str
    owner_id: int
    status: str
    status_label: str
    timezone: str
    language: str
    cadence: str
    sender_number: str | None
    start_date: str | None = Field(json_schema_extra={"format": "date"})
    end_date: str | None = Field(json_schema_extra={"format": "date"})
    outcome: str | None
    outcome_label: str
    created_at: Instant
    closed_at: Instant | None

    @classmethod
    def of(cls, p: Program) -> ProgramOut:
        zone = p.timezone
        return cls(
            id=p.id,
            name=p.name,
            owner_id=p.owner_id,
            status=p.status,
            status_label=label("program_status", p.status),
            timezone=p.timezone,
            language=p.language,
            cadence=p.cadence,
            sender_number=p.sender_number,
            start_date=_date(p.start_date),
            end_date=_date(p.end_date),
            outcome=p.outcome,
            outcome_label=label("outcome", p.outcome),
            created_at=instant(p.created_at, zone),
            closed_at=instant(p.closed_at, zone),
        )


def _phone(number: str | None, phones: bool) -> str:
    return (number or "") if phones else mask_phone(number)


class ParticipantOut(Shape):
    id: int
    program_id: int
    name: str
    phone: str = Field(description="Masked but for its last two digits without `phones` scope.")
    timezone: str
    language: str
    status: str
    status_label: str
    step: int
    step_label: str
    partner_id: int | None
    streak: int
    outcome: str | None
    outcome_label: str
    consent_at: Instant | None
    opted_out_at: Instant | None
    paused_at: Instant | None
    closed_at: Instant | None
    last_inbound_at: Instant | None
    next_checkin_at: Instant | None
    created_at: Instant
    updated_at: Instant

    @classmethod
    def fields_of(cls, p: Participant, phones: bool) -> dict:
        z = p.timezone
        return dict(
            id=p.id,
            program_id=p.program_id,
            name=p.name,
            phone=_phone(p.phone, phones),
            timezone=p.timezone,
            language=p.language,
            status=p.status,
            status_label=label("participant_status", p.status),
            step=p.step,
            step_label=label("step", p.step),
            partner_id=p.partner_id,
            streak=p.streak,
            outcome=p.outcome,
            outcome_label=label("outcome", p.outcome),
            consent_at=instant(p.consent_at, z),
            opted_out_at=instant(p.opted_out_at, z),
            paused_at=instant(p.paused_at, z),
            closed_at=instant(p.closed_at, z),
            last_inbound_at=instant(p.last_inbound_at, z),
            next_checkin_at=instant(p.next_checkin_at, z),
            created_at=instant(p.created_at, z),
            updated_at=instant(p.updated_at or p.created_at, z),
        )

    @classmethod
    def of(cls, p: Participant, phones: bool) -> ParticipantOut:
        return cls(**cls.fields_of(p, phones))


class StatementOut(Shape):
    id: int
    step: int
    kind: str
    kind_label: str
    body: str
    channel: str
    created_at: Instant

    @classmethod
    def of(cls, s: Statement, zone: str) -> StatementOut:
        return cls(
            id=s.id,
            step=s.step,
            kind=s.kind,
            kind_label=label("statement_kind", s.kind),
            body=s.body,
            channel=s.channel,
            created_at=instant(s.created_at, zone),
        )


class ReflectionOut(Shape):
    id: int
    purpose: str
    purpose_label: str
    status: str
    status_label: str
    duration_s: int | None
    transcript: str | None
    transcript_status: str
    created_at: Instant
    audio_url: str | None = Field(
        description="A signed link to the audio (WAV), valid until `audio_expires_at`; null "
        "until the recording is stored."
    )
    audio_expires_at: Instant | None

    @classmethod
    def of(cls, r: Reflection, zone: str, audio: tuple[str, datetime] | None) -> ReflectionOut:
        return cls(
            id=r.id,
            purpose=r.purpose,
            purpose_label=label("recording_purpose", r.purpose),
            status=r.status,
            status_label=label("recording_status", r.status),
            duration_s=r.duration_s,
            transcript=r.transcript,
            transcript_status=r.transcript_status,
            created_at=instant(r.created_at, zone),
            audio_url=audio[0] if audio else None,
            audio_expires_at=instant(audio[1], zone) if audio else None,
        )


class CommitmentOut(Shape):
    id: int
    text: str
    sign: str
    status: str
    status_label: str
    proposed_by: str
    agreed_text: str | None
    agreed_at: Instant | None
    live_at: Instant | None
    created_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, c: Commitment, zone: str) -> CommitmentOut:
        return cls(
            id=c.id,
            text=c.text,
            sign=c.sign,
            status=c.status,
            status_label=label("commitment_status", c.status),
            proposed_by=c.proposed_by,
            agreed_text=c.agreed_text,
            agreed_at=instant(c.agreed_at, zone),
            live_at=instant(c.live_at, zone),
            created_at=instant(c.created_at, zone),
            updated_at=instant(c.updated_at, zone),
        )


class AnswerOut(Shape):
    commitment_id: int
    result: str
    result_label: str


class CheckInOut(Shape):
    id: int
    participant_id: int
    program_id: int
    kind: str
    status: str
    status_label: str
    due_at: Instant
    sent_at: Instant | None
    answered_at: Instant | None
    answer: str | None = Field(description="The reply as they typed it.")
    note: str | None
    results: list[AnswerOut]
    created_at: Instant

    @classmethod
    def of(cls, c: CheckIn, p: Participant, answers: list[CheckInAnswer]) -> CheckInOut:
        z = p.timezone
        return cls(
            id=c.id,
            participant_id=c.participant_id,
            program_id=p.program_id,
            kind=c.kind,
            status=c.status,
            status_label=label("checkin_status", c.status),
            due_at=instant(c.due_at, z),
            sent_at=instant(c.sent_at, z),
            answered_at=instant(c.answered_at, z),
            answer=c.answer_raw,
            note=c.note,
            results=[
                AnswerOut(
                    commitment_id=a.commitment_id,
                    result=a.result,
                    result_label=label("result", a.result),
                )
                for a in answers
            ],
            created_at=instant(c.created_at, z),
        )


class MessageOut(Shape):
    id: int
    direction: str
    status: str
    status_label: str
    body: str
    from_number: str
    to_number: str
    template: str | None
    error_code: int | None
    created_at: Instant
    sent_at: Instant | None

    @classmethod
    def of(cls, m: Message, zone: str, phones: bool) -> MessageOut:
        return cls(
            id=m.id,
            direction=m.direction,
            status=m.status,
            status_label=label("message_status", m.status),
            body=m.body,
            from_number=_phone(m.from_number, phones),
            to_number=_phone(m.to_number, phones),
            template=m.template,
            error_code=m.error_code,
            created_at=instant(m.created_at, zone),
            sent_at=instant(m.sent_at, zone),
        )


class ParticipantDetail(ParticipantOut):
    statements: list[StatementOut]
    reflections: list[ReflectionOut]
    commitments: list[CommitmentOut]
    checkins: list[CheckInOut]
    messages: list[MessageOut]


class AttentionOut(Shape):
    id: int
    program_id: int | None
    participant_id: int | None
    kind: str
    kind_label: str
    detail: str
    created_at: Instant
    resolved_at: Instant | None

    @classmethod
    def of(cls, a: AttentionItem, p: Participant | None, program: Program | None):
        zone = p.timezone if p else (program.timezone if program else "UTC")
        return cls(
            id=a.id,
            program_id=a.program_id,
            participant_id=a.participant_id,
            kind=a.kind,
            kind_label=label("attention_kind", a.kind),
            detail=a.detail,
            created_at=instant(a.created_at, zone),
            resolved_at=instant(a.resolved_at, zone),
        )


# Pages and errors ----------------------------------------------------------------------


def _next():
    return Field(description="The next page's URL, or null on the last page.")


class ProgramPage(Shape):
    data: list[ProgramOut]
    next: str | None = _next()


class ParticipantPage(Shape):
    data: list[ParticipantOut]
    next: str | None = _next()


class CheckInPage(Shape):
    data: list[CheckInOut]
    next: str | None = _next()


class AttentionPage(Shape):
    data: list[AttentionOut]
    next: str | None = _next()


class ErrorBody(Shape):
    code: str = Field(examples=["unauthorized"])
    message: str
    fields: list[str] = Field(default_factory=list, description="Parameters that were wrong.")


class ErrorOut(Shape):
    error: ErrorBody
