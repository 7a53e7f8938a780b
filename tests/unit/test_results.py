"""How a program's results read: ISO instants with the zone and no microseconds, labels
for keys, three CSV columns per commitment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

from service.core import results


def test_instants_are_utc_with_the_zone_and_whole_seconds():
    assert results.instant(None) is None
    assert results.instant(datetime(2026, 12, 3, 19, 2, 5, 987654, tzinfo=UTC)) == (
        "2026-12-03T19:02:05+00:00"
    )
    new_york = timezone(timedelta(hours=-5))
    assert results.instant(datetime(2026, 12, 3, 14, 2, tzinfo=new_york)) == (
        "2026-12-03T19:02:00+00:00"
    )
    assert results.instant(datetime(2026, 12, 3, 19, 2, 0, 5)) == "2026-12-03T19:02:00+00:00"


def test_a_row_shows_labels_and_spreads_commitments_over_numbered_columns():
    person = SimpleNamespace(
        id=7, name="Ari", step=5, status="active", outcome=None,
        created_at=datetime(2026, 11, 1, 9, 0, 0, 1, tzinfo=UTC), consent_at=None, closed_at=None,
    )  # fmt: skip
    kept = SimpleNamespace(id=1, text="Call", agreed_text=None, status="active")
    late = SimpleNamespace(id=2, text="Late", agreed_text="Say when late", status="retired")
    row = results.row(person, 10, 8, 2 / 3, [(kept, 1.0), (late, None)])
    assert row["status"] == "Active" and row["outcome"] is None
    assert row["kept_ratio"] == 0.667 and row["enrolled_at"] == "2026-11-01T09:00:00+00:00"
    assert row["step_name"].endswith("Living the alignment")
    header = results.csv_columns([row, {**row, "commitments": []}])
    assert header[-3:] == ["commitment_2", "commitment_2_status", "commitment_2_kept_ratio"]
    line = results.flat(row)
    assert line["commitment_2"] == "Say when late" and line["commitment_2_status"] == "Retired"
    assert line["commitment_1_kept_ratio"] == 1.0 and line["commitment_2_kept_ratio"] is None
