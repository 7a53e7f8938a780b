"""Every status, kind and outcome reads as words: people never see a stored key."""

from __future__ import annotations

import pytest

from service.core.enums import ENUMS, Step, label


@pytest.mark.parametrize("kind", sorted(ENUMS))
def test_every_member_has_a_label_that_is_not_its_key(kind):
    for member in ENUMS[kind]:
        assert member.label and member.label != member.value
        assert label(kind, member.value) == member.label


def test_steps_read_with_their_names():
    assert label("step", 3) == Step.LISTENING.label == "3. Listening deeply"


def test_an_unknown_value_reads_as_words_and_nothing_as_nothing():
    assert label("participant_status", "on_hold") == "On hold"
    assert label("outcome", None) == ""
