"""The message bank: texts sent again and again have several wordings, taken in turn per
participant, so the same wording never comes twice in a row.

A family is the text's key ("ack_statement") and its variants are texts of their own
("ack_statement_2", ...), each editable per program like any other text. What a participant
got last is kept per family in `turns` ({family: index}).
"""

from __future__ import annotations

from collections.abc import Mapping

FAMILIES: dict[str, tuple[str, ...]] = {
    family: (family, *(f"{family}_{n}" for n in range(2, size + 1)))
    for family, size in (
        ("ack_statement", 4),
        ("checkin", 3),
        ("checkin_thanks", 4),
        ("checkin_nudge", 3),
    )
}
VARIANT_OF: dict[str, str] = {key: family for family, keys in FAMILIES.items() for key in keys}


def next_variant(family: str, turns: Mapping[str, int] | None) -> tuple[str, dict[str, int]]:
    """The wording to send now for `family` and the turns to keep: the one after the last
    sent, round the bank. A text outside the bank is itself, and the turns stay as they are."""
    turns = dict(turns or {})
    keys = FAMILIES.get(family)
    if keys is None:
        return family, turns
    last = turns.get(family)
    index = 0 if not isinstance(last, int) else (last + 1) % len(keys)
    turns[family] = index
    return keys[index], turns
