"""What an erasure removes besides its own rows (core/erasure_rules.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.core.enums import LeftoverKind
from service.core.erasure_rules import (
    ErasedPerson,
    Leftover,
    file_leftovers,
    names_person,
    retry_delay,
    should_tell,
    twilio_leftovers,
)

SM, MM = "SM" + "a1" * 16, "MM" + "b2" * 16
CA, RE, RE2 = "CA" + "c3" * 16, "RE" + "d4" * 16, "RE" + "e5" * 16
PERSON = ErasedPerson(
    7, "+12015550123", {"message": frozenset({40, 41}), "reflection": frozenset({3})}
)


def test_every_twilio_copy_once_and_only_real_sids():
    found = twilio_leftovers(
        [SM, MM, SM, None, "SMconsole" + "0" * 25, "SM123"],
        [(RE, False), (RE2, True), (None, False)],
        [CA, CA, None, "CAconsole" + "1" * 25],
    )
    assert found == [
        Leftover(LeftoverKind.MESSAGE, SM),
        Leftover(LeftoverKind.MESSAGE, MM),
        Leftover(LeftoverKind.RECORDING, RE),  # RE2 was deleted at Twilio already
        Leftover(LeftoverKind.CALL, CA),
    ]


def test_files_once_each():
    assert file_leftovers(["/r/a.wav", None, "", "/r/a.wav", "/r/b.wav"]) == [
        Leftover(LeftoverKind.FILE, "/r/a.wav"),
        Leftover(LeftoverKind.FILE, "/r/b.wav"),
    ]


@pytest.mark.parametrize(
    ("actor", "entity", "entity_id", "detail", "named"),
    [
        ("participant:7", "participant", 7, {}, True),  # they acted
        ("facilitator:1", "participant", 7, {"fields": ["name"]}, True),  # about them
        ("facilitator:1", "message", 41, {}, True),  # about a text of theirs
        ("facilitator:1", "reflection", 3, {}, True),
        ("facilitator:1", "link_partners", None, {"partner_id": 7}, True),
        ("facilitator:1", "participant", 8, {"partner_id": "7"}, True),
        ("anonymous", "", None, {"note": "from (201) 555-0123"}, True),  # their number
        ("anonymous", "", None, {"numbers": ["+1 201 555 0123"]}, True),
        ("participant:70", "participant", 70, {}, False),  # someone else
        ("facilitator:1", "participant", 8, {"partner_id": 9, "step": 7}, False),
        ("facilitator:1", "message", 7, {}, False),  # someone else's text with id 7
        ("facilitator:1", "program", 7, {"program_id": 7, "owner_id": 7}, False),
        ("facilitator:1", "", None, {"phone_hmac": "ab" * 32, "program_id": 2}, False),
        ("anonymous", "", None, {"note": "+12015550124", "ok": True}, False),
    ],
)
def test_which_audit_rows_name_the_person(actor, entity, entity_id, detail, named):
    assert (
        names_person(PERSON, actor=actor, entity=entity, entity_id=entity_id, detail=detail)
        is named
    )


def test_retries_back_off_to_hourly_and_never_stop():
    delays = [retry_delay(n) for n in range(0, 12)]
    assert delays[:4] == [timedelta(minutes=m) for m in (0, 1, 2, 4)]
    assert delays == sorted(delays) and max(delays) == timedelta(hours=1)
    assert retry_delay(1000) == timedelta(hours=1)


def test_the_operator_is_told_once():
    assert [n for n in range(1, 100) if should_tell(n)] == [12]
