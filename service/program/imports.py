"""Enrolling many at once from a CSV file: read, check every row, then all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from service.core import schedule
from service.core.enums import Language
from service.core.phones import normalize_phone
from service.models import Participant, Program
from service.program import enrollment
from service.program.actions import ActionError
from service.program.erasure import was_erased
from service.program.matching import ON_ANOTHER_PROGRAM, phone_clashes
from service.records import audit
from service.unit_of_work import UnitOfWork

MAX_IMPORT_ROWS = 5000


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
    session: Session, program: Program, rows: list[ImportRow], secret: str, defaults
) -> list[ImportRow]:
    """Give each row its errors: name, phone, time zone, language, duplicates (in the file
    or already in the program), numbers in an open program on the same texting number, and
    numbers whose owner asked this program's owner to be erased."""
    existing = set(
        session.exec(select(Participant.phone).where(Participant.program_id == program.id)).all()
    )
    seen: dict[str, int] = {}
    for row in rows:
        row.errors = []
        if not row.name:
            row.errors.append("name is missing")
        try:
            row.normalized = normalize_phone(row.phone, program.country)
        except ValueError as exc:
            row.normalized = None
            row.errors.append(f"phone: {exc}")
        try:
            row.timezone = schedule.validate_tz(row.timezone or program.timezone)
        except ValueError as exc:
            row.errors.append(f"time zone: {exc}")
        row.language = (row.language or program.language or Language.EN).lower()
        if row.language not in Language.values():
            row.errors.append(f"language must be one of {', '.join(Language.values())}")
        if row.normalized:
            if row.normalized in existing:
                row.errors.append("duplicate: this number is already in the program")
            elif row.normalized in seen:
                row.errors.append(f"duplicate: same number as line {seen[row.normalized]}")
            elif phone_clashes(session, program, row.normalized, defaults):
                row.errors.append(ON_ANOTHER_PROGRAM)
            elif was_erased(session, row.normalized, secret, program.owner_id):
                row.errors.append(
                    "this number's owner asked to be erased; enrol them by hand if they ask again"
                )
            seen.setdefault(row.normalized, row.line)
    return rows


def import_rows(
    uow: UnitOfWork,
    program: Program,
    rows: list[dict],
    *,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Enrol every row in the caller's one unit of work (any failure raises: the caller
    rolls back and nothing is imported, not an invitation sent). Returns how many."""
    total = len(rows)
    for done, row in enumerate(rows, start=1):
        try:
            enrollment.enroll(
                uow,
                program,
                name=row["name"],
                phone=row["phone"],
                timezone=row["timezone"],
                language=row["language"],
                actor=actor,
            )
        except enrollment.EnrollmentError as exc:
            raise ActionError(f"line {row['line']}: {exc}") from None
        if progress is not None:
            progress(done, total)
    detail = {"rows": total}
    audit(uow.session, actor, "import_participants", program, now=uow.now, detail=detail)
    return total
