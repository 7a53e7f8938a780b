"""A program's results as rows: one per participant, the same fields in CSV and JSON.

Plain values in, plain values out: the use case (service/program/results.py) adds up the
figures in the database; this decides how a row reads. Instants are ISO 8601 in UTC with
the zone written out and no microseconds; ratios are the one score's (0 to 1, 3 places).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime

from service.core import enums

# The same few labels over and over, for thousands of rows: looked up once each.
label = functools.cache(enums.label)

COLUMNS = (
    "participant_id", "name", "step", "step_name", "status", "outcome",
    "checkins_sent", "checkins_answered", "kept_ratio",
    "enrolled_at", "consented_at", "closed_at",
)  # fmt: skip
COMMITMENT_COLUMNS = ("commitment_{n}", "commitment_{n}_status", "commitment_{n}_kept_ratio")


def instant(value: datetime | None) -> str | None:
    """`2026-12-03T19:02:00+00:00`: UTC, the zone written out, whole seconds. A naive value
    (SQLite gives those back) is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def rounded(ratio: float | None) -> float | None:
    return None if ratio is None else round(float(ratio), 3)


def row(participant, sent: int, answered: int, kept: float | None, commitments) -> dict:
    """One participant's results. `commitments`: (commitment, kept ratio) in their order."""
    return {
        "participant_id": participant.id,
        "name": participant.name,
        "step": participant.step,
        "step_name": label("step", participant.step),
        "status": label("participant_status", participant.status),
        "outcome": label("outcome", participant.outcome) or None,
        "checkins_sent": int(sent),
        "checkins_answered": int(answered),
        "kept_ratio": rounded(kept),
        "enrolled_at": instant(participant.created_at),
        "consented_at": instant(participant.consent_at),
        "closed_at": instant(participant.closed_at),
        "commitments": [
            {
                "id": c.id,
                "text": c.agreed_text or c.text,
                "status": label("commitment_status", c.status),
                "kept_ratio": rounded(ratio),
            }
            for c, ratio in commitments
        ],
    }


def csv_columns(rows: Iterable[dict]) -> list[str]:
    """The header: the fixed columns, then three per commitment, for as many commitments
    as the participant with the most has."""
    most = max((len(r["commitments"]) for r in rows), default=0)
    return [*COLUMNS, *commitment_columns(most)]


def commitment_columns(most: int) -> list[str]:
    """Three columns per commitment, for `most` commitments."""
    return [c.format(n=n) for n in range(1, most + 1) for c in COMMITMENT_COLUMNS]


def flat(result: dict) -> dict:
    """A row as a CSV line holds it: commitments spread over numbered columns."""
    line = {k: result[k] for k in COLUMNS}
    for n, c in enumerate(result["commitments"], start=1):
        line[f"commitment_{n}"] = c["text"]
        line[f"commitment_{n}_status"] = c["status"]
        line[f"commitment_{n}_kept_ratio"] = c["kept_ratio"]
    return line
