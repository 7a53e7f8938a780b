"""The message bank: several wordings per repeated text, taken in turn per participant."""

import string

import pytest

from service.core.rotation import FAMILIES, VARIANT_OF, next_variant
from service.core.texts import LANGUAGES, TEMPLATES, placeholders


def _fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_has_three_to_five_wordings_in_every_language(family):
    keys = FAMILIES[family]
    assert 3 <= len(keys) <= 5 and keys[0] == family
    for key in keys:
        assert set(TEMPLATES[key]) == set(LANGUAGES)
        assert VARIANT_OF[key] == family
        assert placeholders(key) == placeholders(family), key  # any wording fits the caller
    for lang in LANGUAGES:
        wordings = [TEMPLATES[k][lang] for k in keys]
        assert len(set(wordings)) == len(wordings), (family, lang)
        assert all(_fields(w) == _fields(wordings[0]) for w in wordings)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_wordings_come_in_turn_and_never_twice_in_a_row(family):
    turns, sent = {}, []
    for _ in range(3 * len(FAMILIES[family])):
        key, turns = next_variant(family, turns)
        sent.append(key)
    assert all(a != b for a, b in zip(sent, sent[1:], strict=False))
    assert sent[: len(FAMILIES[family])] == list(FAMILIES[family])


def test_turns_are_kept_per_family_and_others_pass_through():
    key, turns = next_variant("ack_statement", {"checkin": 1})
    assert (key, turns) == ("ack_statement", {"checkin": 1, "ack_statement": 0})
    assert next_variant("checkin", turns) == ("checkin_3", {**turns, "checkin": 2})
    assert next_variant("help", turns) == ("help", turns)
    assert next_variant("ack_statement", {"ack_statement": "junk"})[0] == "ack_statement"
