"""One rule for who a text or a call is from (core/matching.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from service.core.enums import ParticipantStatus
from service.core.matching import Defaults, choose, reaches

OWN, OTHER, DEFAULT = "+12015550100", "+12015550177", "+12015550999"
SERVICE, DEFAULT_SERVICE = "MG" + "a" * 32, "MG" + "d" * 32


def program(number=None, service=None):
    return SimpleNamespace(sender_number=number, messaging_service_sid=service)


@pytest.mark.parametrize(
    ("prog", "to", "via", "defaults", "reached"),
    [
        (program(OWN), OWN, None, Defaults(), True),  # its own number
        (program(OWN), OTHER, None, Defaults(), False),
        (program(OWN), OTHER, DEFAULT_SERVICE, Defaults(DEFAULT, DEFAULT_SERVICE), False),
        (program(OWN, SERVICE), OTHER, SERVICE, Defaults(), True),  # its own service
        (program(service=SERVICE), OTHER, SERVICE, Defaults(DEFAULT), True),
        (program(service=SERVICE), DEFAULT, None, Defaults(DEFAULT), True),  # a call
        (program(service=SERVICE), OTHER, None, Defaults(DEFAULT), False),  # a call elsewhere
        (program(), DEFAULT, None, Defaults(DEFAULT), True),  # the default number
        (program(), OTHER, None, Defaults(DEFAULT), False),
        (program(), OTHER, DEFAULT_SERVICE, Defaults(DEFAULT, DEFAULT_SERVICE), True),
        (program(), OTHER, None, Defaults(), True),  # nothing to tell programs apart by
    ],
)
def test_a_program_answers_on_its_number_and_service(prog, to, via, defaults, reached):
    assert reaches(prog, to, via, defaults) is reached


def person(pid, status=ParticipantStatus.ACTIVE):
    return SimpleNamespace(id=pid, status=status)


def test_an_open_enrolment_wins_over_a_closed_one_then_the_newest():
    here, there = program(OWN), program(OTHER)
    enrolments = [
        (person(1), here),
        (person(5, ParticipantStatus.CLOSED), here),
        (person(3), here),
        (person(9), there),
    ]
    assert choose(enrolments, OWN, None, Defaults()).id == 3
    assert choose(enrolments, OTHER, None, Defaults()).id == 9
    assert choose(enrolments, DEFAULT, None, Defaults()) is None
    assert choose([(person(5, ParticipantStatus.CLOSED), here)], OWN, None, Defaults()).id == 5
