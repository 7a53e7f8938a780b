"""One participant's export as a single zip download.

`participant.json` is the domain's full export (`service.enrollment.export_participant`);
beside it, CSV files of the statements, messages, check-ins (one row per answer) and
commitments for a spreadsheet, and every stored recording's audio under `recordings/`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

from service.core.results import COLUMNS, commitment_columns, flat
from service.program.exports import export_archive
from service.program.results import result_pages

CSV_FILES = {
    "statements.csv": ("statements", ("id", "step", "kind", "channel", "created_at", "body")),
    "messages.csv": (
        "messages",
        ("id", "direction", "created_at", "sent_at", "status", "error_code", "template", "body"),
    ),
    "commitments.csv": (
        "commitments",
        ("id", "status", "text", "sign", "proposed_by", "agreed_at", "live_at", "created_at"),
    ),
}
CHECKIN_COLUMNS = (
    "id", "kind", "due_at", "status", "sent_at", "answered_at", "answer_raw", "note",
    "commitment_id", "result",
)  # fmt: skip


def _csv(rows: list[dict], columns) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return out.getvalue()


def _cell(value):
    """Spreadsheets run cells starting with = + - @ as formulas: defuse them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def checkin_rows(checkins: list[dict]) -> list[dict]:
    rows = []
    for checkin in checkins:
        answers = checkin.get("answers") or [{}]
        for answer in answers:
            rows.append(
                {
                    **checkin,
                    "commitment_id": answer.get("commitment_id"),
                    "result": answer.get("result"),
                }
            )
    return rows


def csv_files(data: dict) -> dict[str, str]:
    files = {name: _csv(data[key], columns) for name, (key, columns) in CSV_FILES.items()}
    files["checkins.csv"] = _csv(checkin_rows(data["checkins"]), CHECKIN_COLUMNS)
    return files


def participant_zip(session, participant) -> io.BytesIO:
    return io.BytesIO(export_archive(session, participant, extra_files=csv_files))


def filename(participant) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", participant.name).strip("-").lower() or "participant"
    return f"realign-{participant.id}-{slug}.zip"


def results_csv(sessions, program_id: int, most: int) -> Iterator[str]:
    """A program's results (service/program/results.py) as one CSV line per participant,
    a page at a time; `most`: the most commitments anyone has (the header's columns)."""
    columns = [*COLUMNS, *commitment_columns(most)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    with sessions() as session:
        for page in result_pages(session, program_id):
            for row in page:
                line = flat(row)
                writer.writerow({k: _cell(line.get(k)) for k in columns})
            yield _drain(out)
    yield _drain(out)


def results_json(sessions, program_id: int, program_name: str) -> Iterator[str]:
    """The same rows as one JSON document, a page at a time."""
    head = json.dumps({"id": program_id, "name": program_name}, ensure_ascii=False)
    yield f'{{"program": {head}, "participants": ['
    first = True
    with sessions() as session:
        for page in result_pages(session, program_id):
            parts = []
            for row in page:
                parts.append(("\n  " if first else ",\n  ") + json.dumps(row, ensure_ascii=False))
                first = False
            yield "".join(parts)
    yield "\n]}\n"


def _drain(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def results_filename(program, extension: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", program.name).strip("-").lower() or "program"
    return f"realign-results-{program.id}-{slug}.{extension}"
