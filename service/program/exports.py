"""One participant's whole record, as JSON data or as a zip with their recordings."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlmodel import Session, select

from service.models import (
    Call,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)


def export_participant(session: Session, participant: Participant) -> dict:
    """Everything stored about one participant, as plain JSON-ready data."""

    def rows(model, *where, order=None):
        query = select(model).where(*where)
        if order is not None:
            query = query.order_by(order)
        return [_plain(r) for r in session.exec(query).all()]

    pid = participant.id
    checkins = rows(CheckIn, CheckIn.participant_id == pid, order=CheckIn.due_at)
    # Every answer of theirs in one statement (joined to their check-ins), not one a check-in.
    answers: dict[int, list[dict]] = {c["id"]: [] for c in checkins}
    for answer in session.exec(
        select(CheckInAnswer)
        .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)
        .where(CheckIn.participant_id == pid)
        .order_by(CheckInAnswer.id)
    ):
        answers.setdefault(answer.checkin_id, []).append(_plain(answer))
    for checkin in checkins:
        checkin["answers"] = answers[checkin["id"]]
    return {
        "participant": _plain(participant),
        "program": _plain(session.get(Program, participant.program_id)),
        "statements": rows(Statement, Statement.participant_id == pid, order=Statement.id),
        "reflections": [
            {**r, "audio": audio_name(r) if r["storage_path"] else None}
            for r in rows(Reflection, Reflection.participant_id == pid, order=Reflection.id)
        ],
        "commitments": rows(Commitment, Commitment.participant_id == pid, order=Commitment.id),
        "checkins": checkins,
        "messages": rows(Message, Message.participant_id == pid, order=Message.id),
        "calls": rows(Call, Call.participant_id == pid, order=Call.id),
    }


def audio_name(reflection: dict) -> str:
    """Where a recording's audio sits inside the export archive."""
    return f"recordings/{reflection['id']}-{reflection['purpose']}.wav"


def export_archive(session: Session, participant: Participant, extra_files=None) -> bytes:
    """The export as a zip: `participant.json` plus every stored recording's audio.

    A recording not downloaded yet (or whose file is gone) is listed with `"audio": null`.
    `extra_files(data) -> {name: text}` adds more files made from the same data (the
    admin's CSV files).
    """
    data = export_participant(session, participant)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for reflection in data["reflections"]:
            path = Path(reflection["storage_path"]) if reflection["storage_path"] else None
            if path is None or not path.is_file():
                reflection["audio"] = None
                continue
            archive.write(path, reflection["audio"])
        archive.writestr("participant.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, text in (extra_files(data) if extra_files else {}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _plain(obj) -> dict:
    data = obj.model_dump()
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
