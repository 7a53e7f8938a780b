"""Programs: their settings, validated, and who may see them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from service.core import schedule
from service.core.countries import InvalidCountry, country_of_zone, validate_country
from service.core.enums import Language, Pacing
from service.core.matching import Defaults
from service.core.options import DEFAULT_OPTIONS, parse_hhmm
from service.core.phones import InvalidPhone, normalize_phone
from service.infra.zones import zone_countries
from service.models import Facilitator, Program
from service.program.matching import line_taken, movers_clash
from service.records import audit


class ProgramError(ValueError):
    """A plain-language reason a program setting is not valid."""


def create_program(
    session: Session,
    owner: Facilitator,
    *,
    name: str,
    now: datetime,
    defaults: Defaults,
    timezone: str = "UTC",
    sender_number: str | None = None,
    messaging_service_sid: str | None = None,
    cadence: str = "daily@19:00",
    quiet_start: str = "08:00",
    quiet_end: str = "21:00",
    pacing: str = "immediate",
    language: str = "en",
    country: str | None = None,
    options: dict | None = None,
    actor: str = "system",
) -> Program:
    program = Program(
        country=country or "",
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
    check_line(session, program, owner.id, defaults)
    session.add(program)
    session.flush()
    audit(session, actor, "create_program", program, now=now)
    return program


def check_line(session: Session, program: Program, owner_id: int, defaults: Defaults) -> None:
    """Refuse a number or Messaging Service that belongs to another owner's programs, and a
    line that would give one of the program's open participants a second open enrolment
    (see core/matching.py). Says nothing about whose programs or participants they are."""
    state = sa.inspect(program)
    moved = state.persistent and any(
        state.attrs[name].history.has_changes()
        for name in ("sender_number", "messaging_service_sid")
    )
    # Asked without flushing the edit, so the caller still sees what changed.
    with session.no_autoflush:
        taken = line_taken(session, program, owner_id, defaults)
        clash = moved and movers_clash(session, program, defaults)
    if taken == "number":
        raise ProgramError(
            "sender number: that number is used by another facilitator's programs; a number "
            "answers for one facilitator's programs only, so choose another"
        )
    if taken == "service":
        raise ProgramError(
            "messaging service: that service is used by another facilitator's programs; a "
            "service answers for one facilitator's programs only, so choose another"
        )
    if clash:
        raise ProgramError(
            "sender number: some of this program's participants are already in an open "
            "program on that number, and a text must reach exactly one; keep the number "
            "this program has"
        )


def validate_program(program: Program) -> None:
    """Raise ProgramError naming the first setting that is wrong; normalise the rest."""
    if not program.name:
        raise ProgramError("a program needs a name")
    try:
        program.timezone = schedule.validate_tz(program.timezone)
    except ValueError as exc:
        raise ProgramError(f"time zone: {exc}") from None
    if (program.country or "").strip():
        try:
            program.country = validate_country(program.country)
        except InvalidCountry as exc:
            raise ProgramError(f"country: {exc}") from None
    else:
        program.country = country_of_zone(program.timezone, zone_countries())
    if program.sender_number:
        try:
            program.sender_number = normalize_phone(program.sender_number, program.country)
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
