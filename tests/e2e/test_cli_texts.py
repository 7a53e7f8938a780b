"""`realign texts`: every participant-facing text of a program, measured, on a fresh
instance after `realign migrate` and `realign seed-demo`."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from service.core.texts import LANGUAGES, SAMPLE_LABELS, TEMPLATES
from service.models import Participant, Program
from tests.e2e.test_cli import cli_env, ok, realign  # noqa: F401 (fixtures)

KEYS = {"key", "language", "text", "characters", "encoding", "segments", "override"}


def _demo(realign, db) -> int:  # noqa: F811
    ok(realign("migrate"))
    ok(realign("seed-demo"))
    with Session(db) as session:
        return session.exec(select(Program.id)).one()


def test_json_reports_every_default_at_one_segment_in_both_languages(realign, db):  # noqa: F811
    program_id = _demo(realign, db)
    result = realign("texts", "--program", str(program_id), "--json")
    rows = json.loads(ok(result))
    assert all(set(row) == KEYS for row in rows)
    assert {(r["key"], r["language"]) for r in rows} == {
        (key, lang) for key in TEMPLATES for lang in LANGUAGES
    }
    assert len(rows) == len(TEMPLATES) * len(LANGUAGES)
    assert [r for r in rows if r["segments"] != 1 or r["encoding"] != "GSM-7"] == []
    assert not any(r["override"] for r in rows)
    assert all(r["characters"] == len(r["text"]) for r in rows)
    by = {(r["key"], r["language"]): r for r in rows}
    # The demo's labels are shorter than three of the longest a label may be: those are used.
    for key in ("checkin", "partner_checkin", "checkin_nudge"):
        for lang in LANGUAGES:
            assert all(label in by[key, lang]["text"] for label in SAMPLE_LABELS), (key, lang)
    assert "Founders Reset" in by["invite", "en"]["text"]
    assert "Dana Coach" in by["invite", "es"]["text"]
    assert f"All {len(rows)} standard texts fit one segment." in result.stderr


def test_table_by_default_and_without_a_program_the_first_one(realign, db):  # noqa: F811
    _demo(realign, db)
    out = ok(realign("texts"))
    assert out.startswith("Texts of 'Founders Reset' (id ")
    assert "\ncheckin (en): 156 characters, GSM-7, 1 segment\n  Did you keep each one?\n" in out


def test_commitment_labels_over_one_segment_fail_and_say_which(realign, db):  # noqa: F811
    program_id = _demo(realign, db)
    labels = ["Walk the dog together each night"] * 4
    args = [a for label in labels for a in ("--commitment", label)]
    result = realign("texts", "--program", str(program_id), "--json", *args)
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    over = {(r["key"], r["language"]) for r in rows if r["segments"] > 1}
    assert ("checkin", "en") in over and ("checkin", "es") in over
    checkin = next(r for r in rows if (r["key"], r["language"]) == ("checkin", "en"))
    assert "4) Walk the dog together each night" in checkin["text"]
    assert "checkin (en)" in result.stderr


def test_a_programs_own_wording_is_reported_not_failed(realign, db):  # noqa: F811
    program_id = _demo(realign, db)
    with Session(db) as session:
        program = session.get(Program, program_id)
        program.text_overrides = {"paused": {"es": "Pausado. " + "Sí, " * 40}}
        session.add(program)
        session.commit()
    result = realign("texts", "--program", str(program_id), "--json")
    rows = json.loads(ok(result))
    [own] = [r for r in rows if r["override"]]
    assert (own["key"], own["language"], own["encoding"]) == ("paused", "es", "UCS-2")
    assert own["segments"] > 1


def test_an_unknown_program_is_a_clear_error(realign, db):  # noqa: F811
    result = realign("texts", "--program", "999999")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: no program with id 999999"


def test_create_program_takes_a_country_and_enrol_reads_numbers_in_it(realign, db):  # noqa: F811
    owner = ("--owner", "d@example.org")
    password = ("--password", "pw-is-long-1")
    ok(realign("create-facilitator", "--email", owner[1], "--name", "D", *password))
    ok(realign("create-program", "--name", "London", *owner, "--timezone", "Europe/London"))
    ok(realign("create-program", "--name", "Madrid", *owner, "--country", "ES"))
    with Session(db) as session:
        countries = {p.name: p.country for p in session.exec(select(Program))}
    assert countries == {"London": "GB", "Madrid": "ES"}
    ok(realign("enroll", "--program", "London", "--name", "Gil", "--phone", "07911 123456"))
    with Session(db) as session:
        assert session.exec(select(Participant.phone)).one() == "+447911123456"
