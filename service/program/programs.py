"""Programs: their settings, validated, and who may see them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from service.core import schedule
from service.core.enums import Language, Pacing
from service.core.options import DEFAULT_OPTIONS, parse_hhmm
from service.core.phones import InvalidPhone, normalize_phone
from service.models import Facilitator, Program
from service.records import audit


class ProgramError(ValueError):
    """A plain-language reason a program setting is not valid."""


def create_program(
    session: Session,
    owner: Facilitator,
    *,
    name: str,
    now: datetime,
    timezone: str = "UTC",
    sender_number: str | None = None,
    messaging_service_sid: str | None = None,
    cadence: str = "daily@19:00",
    quiet_start: str = "08:00",
    quiet_end: str = "21:00",
    pacing: str = "immediate",
    language: str = "en",
    options: dict | None = None,
    actor: str = "system",
) -> Program:
    program = Program(
        name=(name or "").strip(),
        owner_id=owner.id,
        timezone=timezone,
        sender_number=sender_number or None,
        messaging_service_sid=messaging_service_sid or None,
        cadence=cadence,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        pacing=pacing,
        language=language,
        options={**DEFAULT_OPTIONS, **(options or {})},
        created_at=now,
    )
    validate_program(program)
    session.add(program)
    session.flush()
    audit(session, actor, "create_program", program, now=now)
    return program


def validate_program(program: Program) -> None:
    """Raise ProgramError naming the first setting that is wrong; normalise the rest."""
    if not program.name:
        raise ProgramError("a program needs a name")
    try:
        program.timezone = schedule.validate_tz(program.timezone)
    except ValueError as exc:
        raise ProgramError(f"time zone: {exc}") from None
    if program.sender_number:
        try:
            program.sender_number = normalize_phone(program.sender_number, None)
        except InvalidPhone as exc:
            raise ProgramError(f"sender number: {exc}") from None
    sid = program.messaging_service_sid
    if sid and not (sid.startswith("MG") and len(sid) == 34):
        raise ProgramError("messaging service SID must look like MG followed by 32 characters")
    try:
        schedule.Cadence.parse(program.cadence)
    except ValueError as exc:
        raise ProgramError(f"cadence: {exc}") from None
    try:
        start, end = parse_hhmm(program.quiet_start), parse_hhmm(program.quiet_end)
        schedule.QuietHours(start, end)
    except ValueError as exc:
        raise ProgramError(f"waking hours: {exc}") from None
    if program.pacing not in Pacing.values():
        raise ProgramError("pacing must be 'immediate' or 'morning'")
    if program.language not in Language.values():
        raise ProgramError(f"language must be one of {', '.join(Language.values())}")
    if program.start_date and program.end_date and program.end_date < program.start_date:
        raise ProgramError("the end date is before the start date")
