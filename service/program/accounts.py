"""Facilitator accounts: argon2 password hashes, sign-in checks, who sees which programs.

Functions take any SQLAlchemy session (a SQLModel one or the admin's plain one) and never
commit: the caller owns the transaction.
"""

from __future__ import annotations

import functools
import re

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.core import passwords, schedule
from service.core.countries import DEFAULT_COUNTRY
from service.core.enums import Language, Role
from service.core.phones import normalize_phone
from service.models import Facilitator, Program, ProgramFacilitator

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# Module-level so tests (or a future config) can swap parameters; authenticate() rehashes
# any stored hash whose parameters differ from these.
hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both paths cost the same time (made
    on first use, not at import: an argon2 hash takes a tenth of a second)."""
    return hasher.hash("not a real password, only for timing")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    check_password(password)
    return hasher.hash(password)


def check_password(password: str) -> None:
    """Raise ValueError, saying why, for a password too short or too common (every way a
    password is set comes here: the admin, the CLI, a change or a reset)."""
    problem = passwords.weakness(password, common_passwords())
    if problem:
        raise ValueError(problem)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 passwords people choose most, as zxcvbn ships them (loaded on first use:
    the list is a few megabytes a process needs only when a password is set)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def find_by_email(session, email: str) -> Facilitator | None:
    stmt = sa.select(Facilitator).where(sa.func.lower(Facilitator.email) == normalize_email(email))
    return session.scalars(stmt).first()


def create_facilitator(
    session,
    email: str,
    name: str,
    password: str,
    role: str = "facilitator",
    contact: str = "",
    phone: str | None = None,
    timezone: str = "UTC",
    language: str | None = None,
) -> Facilitator:
    """Add a facilitator (flushed, not committed); ValueError says what is wrong."""
    email = normalize_email(email)
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValueError("Please enter a valid email address, such as name@example.org.")
    name = (name or "").strip()
    if not name:
        raise ValueError("Please enter a name.")
    if role not in Role.values():
        raise ValueError(f"The role must be one of: {', '.join(Role.values())}.")
    phone = facilitator_phone(phone)
    timezone = facilitator_timezone(timezone)
    language = facilitator_language(language)
    check_password(password)
    if find_by_email(session, email) is not None:
        raise ValueError("A facilitator with this email address already exists.")
    facilitator = Facilitator(
        email=email,
        name=name[:120],
        contact=(contact or "").strip()[:120],
        phone=phone,
        timezone=timezone,
        language=language,
        password_hash=hasher.hash(password),
        role=role,
    )
    session.add(facilitator)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # lost a race to the same email; caller rolls back
        raise ValueError("A facilitator with this email address already exists.") from None
    return facilitator


def facilitator_phone(raw: str | None) -> str | None:
    """The number the digest texts, in E.164 (read as a US number without a country code);
    None when left empty. ValueError says what is wrong."""
    if not (raw or "").strip():
        return None
    try:
        return normalize_phone(raw, DEFAULT_COUNTRY)
    except ValueError as exc:
        raise ValueError(f"Phone: {exc}.") from None


def facilitator_timezone(raw: str | None) -> str:
    """A time zone zoneinfo knows ("UTC" when left empty). ValueError says what is wrong."""
    if not (raw or "").strip():
        return "UTC"
    try:
        return schedule.validate_tz(raw)
    except ValueError as exc:
        raise ValueError(f"Time zone: {exc}.") from None


def facilitator_language(raw: str | None) -> str | None:
    """The admin's language a facilitator chose ("en", "es"), or None to follow their browser
    (left empty). ValueError says what is wrong."""
    chosen = (raw or "").strip().lower()
    if not chosen:
        return None
    if chosen not in Language.values():
        raise ValueError(f"The language must be one of: {', '.join(Language.values())}.")
    return chosen


def set_password(facilitator: Facilitator, password: str) -> None:
    facilitator.password_hash = hash_password(password)


def authenticate(session, email: str, password: str) -> Facilitator | None:
    """The active facilitator with these credentials, or None. Upgrades outdated hashes."""
    facilitator = find_by_email(session, email)
    if facilitator is None or not facilitator.is_active:
        _verify(_dummy_hash(), password or "")
        return None
    if not _verify(facilitator.password_hash, password or ""):
        return None
    if hasher.check_needs_rehash(facilitator.password_hash):
        facilitator.password_hash = hasher.hash(password)
    return facilitator


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def visible_program_ids(session, facilitator) -> set[int] | None:
    """None for an admin (sees everything); else the programs owned or co-facilitated."""
    if facilitator.role == Role.ADMIN:
        return None
    owned = sa.select(Program.id).where(Program.owner_id == facilitator.id)
    shared = sa.select(ProgramFacilitator.program_id).where(
        ProgramFacilitator.facilitator_id == facilitator.id
    )
    return set(session.scalars(sa.union(owned, shared)))


def colleague_ids(session, facilitator) -> set[int] | None:
    """Whom a facilitator may name as a co-facilitator: None for an admin (anyone); else the
    people they already share a program with (its owner or another co-facilitator), so the
    picker shows no one else's name or existence."""
    programs = visible_program_ids(session, facilitator)
    if programs is None:
        return None
    if not programs:
        return set()
    owners = sa.select(Program.owner_id).where(Program.id.in_(programs))
    others = sa.select(ProgramFacilitator.facilitator_id).where(
        ProgramFacilitator.program_id.in_(programs)
    )
    return set(session.scalars(sa.union(owners, others))) - {facilitator.id}
