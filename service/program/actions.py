"""What a facilitator does to one participant (beyond enrolling and closing), and CSV import.

Domain only: no Flask, no RQ. Every function adds to the caller's transaction (the caller
commits, then hands the returned outbox rows to `outbox.enqueue_sends`) and writes an
AuditEvent naming the facilitator. A refusal is an `ActionError` with a plain reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from service.core import schedule
from service.core.phones import normalize_phone
from service.messaging import outbox
from service.models import Message, Participant, Program
from service.program import checkins, conversation, enrollment
from service.program import commitments as commits
from service.program.audit import record
from service.program.erasure import was_erased


class ActionError(ValueError):
    """The action cannot happen; the message says why, in plain words."""


# One participant ----------------------------------------------------------------------------


def reinvite(session: Session, participant: Participant, *, now: datetime, actor: str) -> list:
    """Queue the invitation (consent request) again. At most one a day (same key)."""
    if participant.status != "invited":
        raise ActionError(f"{participant.name} is {participant.status}: no invitation needed")
    program = session.get(Program, participant.program_id)
    key = f"invite:{participant.id}:{now.date().isoformat()}"
    if session.exec(select(Message.id).where(Message.idempotency_key == key)).first():
        raise ActionError("an invitation was already queued today")
    message = enrollment.send_invitation(session, participant, program, now=now)
    record(session, actor, "reinvite", participant, now=now)
    return [message]


def send_prompt_now(session: Session, participant: Participant, *, now: datetime, actor: str):
    """Send what the current step asks (again): the open prompt of steps 1-2, the step-3
    invitation to call, or the commitments waiting for agreement in step 4. Quiet hours
    still apply: it leaves at the next waking-hours moment."""
    if participant.status != "active":
        raise ActionError(
            f"{participant.name} is {participant.status}: prompts go only to active people"
        )
    program = session.get(Program, participant.program_id)
    key = f"prompt:{participant.id}:{participant.step}:{now.isoformat()}"
    if participant.step == 5:
        raise ActionError("step 5 runs on scheduled check-ins; there is no prompt to send")
    if participant.step in (1, 2) and participant.prompt in conversation.PROMPT_KIND:
        message = outbox.queue_text(session, participant, participant.prompt, key=key, now=now)
        participant.prompt_due_at = message.send_after if message is not None else now
        session.add(participant)
        messages = [message]
    elif participant.step == 4:
        messages = commits.send_for_agreement(session, participant, now=now, key=key)
        if not messages:
            raise ActionError("no commitments are waiting for their agreement")
    else:
        messages = conversation.open_step(session, participant, program, now=now)
    record(session, actor, "send_prompt", participant, now=now, detail={"step": participant.step})
    return [m for m in messages if m is not None]


def advance(session: Session, participant: Participant, *, now: datetime, actor: str) -> list:
    """Move an active participant to the next step (its opening text is queued)."""
    if participant.status != "active":
        raise ActionError(f"{participant.name} is {participant.status}: only active people move on")
    if participant.step >= 5:
        raise ActionError("they are already in the last step")
    return [
        m
        for m in conversation.advance_step(session, participant, now=now, actor=actor)
        if m is not None
    ]


def pause(session: Session, participant: Participant, *, now: datetime, actor: str) -> None:
    """Hold check-ins and nudges (the facilitator's pause; the participant is not texted)."""
    if participant.status != "active":
        raise ActionError(f"{participant.name} is {participant.status}: only active people pause")
    participant.status = "paused"
    participant.paused_at = now
    session.add(participant)
    record(session, actor, "pause", participant, now=now)


def resume(session: Session, participant: Participant, *, now: datetime, actor: str) -> None:
    """Back to active; a step-5 schedule starts again from now."""
    if participant.status != "paused":
        raise ActionError(f"{participant.name} is {participant.status}, not paused")
    participant.status = "active"
    participant.paused_at = None
    checkins.resume(session, participant, now)
    session.add(participant)
    record(session, actor, "resume", participant, now=now)


# CSV import -----------------------------------------------------------------------------

MAX_IMPORT_ROWS = 5000
COLUMNS = ("name", "phone", "timezone", "language")


@dataclass
class ImportRow:
    line: int  # line in the file (the header is line 1)
    name: str
    phone: str  # as typed
    timezone: str
    language: str
    normalized: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "name": self.name,
            "phone": self.normalized or self.phone,
            "timezone": self.timezone,
            "language": self.language,
        }


def parse_csv(text: str) -> list[ImportRow]:
    """Rows of a CSV with a header naming at least `name` and `phone` (any order, any case)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = {"name", "phone"} - headers
    if missing:
        names = ", ".join(sorted(missing))
        raise ActionError(f"the first line must name the columns; missing: {names}")
    rows = []
    for raw in reader:
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        rows.append(
            ImportRow(
                line=reader.line_num,
                name=values.get("name", ""),
                phone=values.get("phone", ""),
                timezone=values.get("timezone", ""),
                language=values.get("language", ""),
            )
        )
        if len(rows) > MAX_IMPORT_ROWS:
            raise ActionError(f"at most {MAX_IMPORT_ROWS} participants per file")
    if not rows:
        raise ActionError("the file has no participants")
    return rows


def check_import(
    session: Session, program: Program, rows: list[ImportRow], secret: str
) -> list[ImportRow]:
    """Give each row its errors: name, phone, time zone, language, duplicates (in the file
    or already in the program) and numbers whose owner asked to be erased."""
    existing = set(
        session.exec(select(Participant.phone).where(Participant.program_id == program.id)).all()
    )
    seen: dict[str, int] = {}
    for row in rows:
        row.errors = []
        if not row.name:
            row.errors.append("name is missing")
        try:
            row.normalized = normalize_phone(row.phone)
        except ValueError as exc:
            row.normalized = None
            row.errors.append(f"phone: {exc}")
        try:
            row.timezone = schedule.validate_tz(row.timezone or program.timezone)
        except ValueError as exc:
            row.errors.append(f"time zone: {exc}")
        row.language = (row.language or program.language or "en").lower()
        if row.language not in enrollment.LANGUAGES:
            row.errors.append(f"language must be one of {', '.join(enrollment.LANGUAGES)}")
        if row.normalized:
            if row.normalized in existing:
                row.errors.append("duplicate: this number is already in the program")
            elif row.normalized in seen:
                row.errors.append(f"duplicate: same number as line {seen[row.normalized]}")
            elif was_erased(session, row.normalized, secret):
                row.errors.append(
                    "this number's owner asked to be erased; enrol them by hand if they ask again"
                )
            seen.setdefault(row.normalized, row.line)
    return rows


def import_rows(
    session: Session,
    program: Program,
    rows: list[dict],
    *,
    now: datetime,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> list:
    """Enrol every row in the caller's one transaction (any failure raises: the caller rolls
    back and nothing is imported). Returns the invitations to enqueue after commit."""
    invitations = []
    total = len(rows)
    for done, row in enumerate(rows, start=1):
        try:
            _, message = enrollment.enroll(
                session,
                program,
                name=row["name"],
                phone=row["phone"],
                timezone=row["timezone"],
                language=row["language"],
                now=now,
                actor=actor,
            )
        except enrollment.EnrollmentError as exc:
            raise ActionError(f"line {row['line']}: {exc}") from None
        invitations.append(message)
        if progress is not None:
            progress(done, total)
    record(session, actor, "import_participants", program, now=now, detail={"rows": total})
    return invitations
