"""What an erasure must remove besides its own rows: which copies elsewhere (at Twilio, on
disk) are left to delete, which audit rows name the person, and when to try again.

Pure: the use case (service/program/erasure.py) loads the rows and applies the answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from service.core.enums import LeftoverKind

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
NATIONAL_DIGITS = 10
SEPARATORS = frozenset(" +-().\u00a0")
# Audit details that point at a participant by id (a partner link, say).
PARTICIPANT_KEYS = frozenset({"participant_id", "partner_id", "subject_id"})
# Failed deletions are tried again after 1, 2, 4 … minutes, then at least hourly, forever:
# an outage of any length ends with the copies gone.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# After this many failed tries the operator is told (the tries go on).
TELL_AFTER = 12


@dataclass(frozen=True)
class Leftover:
    """One copy to delete: a Twilio resource by SID, or an audio file by path."""

    kind: LeftoverKind
    ref: str


@dataclass(frozen=True)
class ErasedPerson:
    """Who is being erased: their participant id, their number, and the ids of every row
    about them by audit entity name ("message", "statement", …)."""

    participant_id: int
    phone: str
    rows: Mapping[str, frozenset[int]] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"participant:{self.participant_id}"


def twilio_leftovers(
    message_sids: Iterable[str | None],
    recordings: Iterable[tuple[str | None, bool]],
    call_sids: Iterable[str | None],
) -> list[Leftover]:
    """The Twilio resources to delete: every text (its media go with it), every recording
    not deleted at Twilio yet (`(sid, already_deleted)`), every call (its recordings go with
    it, including any we never stored). SIDs Twilio never issued (the console's, a test
    persona's) are skipped: there is no copy of those anywhere."""
    found: dict[tuple[LeftoverKind, str], Leftover] = {}

    def add(kind: LeftoverKind, sid: str | None, pattern: re.Pattern) -> None:
        if sid and pattern.fullmatch(sid):
            found.setdefault((kind, sid), Leftover(kind, sid))

    for sid in message_sids:
        add(LeftoverKind.MESSAGE, sid, MESSAGE_SID)
    for sid, deleted in recordings:
        if not deleted:
            add(LeftoverKind.RECORDING, sid, RECORDING_SID)
    for sid in call_sids:
        add(LeftoverKind.CALL, sid, CALL_SID)
    return list(found.values())


def file_leftovers(paths: Iterable[str | None]) -> list[Leftover]:
    """The audio files on our disk to remove."""
    return [Leftover(LeftoverKind.FILE, p) for p in dict.fromkeys(p for p in paths if p)]


def names_person(
    person: ErasedPerson, *, actor: str, entity: str, entity_id: int | None, detail: object
) -> bool:
    """Whether an audit row names the person: they acted, it is about them or a row of
    theirs, or its detail points at them (their id under a participant key, their number
    anywhere). The erasure marker itself holds only a keyed hash and ids of the program and
    its owner, so it never names them."""
    if actor == person.actor:
        return True
    if entity_id is not None:
        if entity == "participant" and entity_id == person.participant_id:
            return True
        if entity_id in person.rows.get(entity, ()):
            return True
    return _detail_names(person, detail)


def _detail_names(person: ErasedPerson, value: object, key: str | None = None) -> bool:
    if isinstance(value, Mapping):
        return any(_detail_names(person, v, str(k)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_detail_names(person, v, key) for v in value)
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return key in PARTICIPANT_KEYS and value == person.participant_id
    if isinstance(value, str):
        if key in PARTICIPANT_KEYS and value == str(person.participant_id):
            return True
        return _holds_number(value, person.phone)
    return False


def _holds_number(text: str, phone: str) -> bool:
    """The number appears in `text`, with or without its country code, '+', spaces,
    dashes or brackets (its last ten digits: the national number for most countries)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return bool(phone) and phone in text
    squeezed = "".join(ch for ch in text if ch not in SEPARATORS)
    return digits[-NATIONAL_DIGITS:] in squeezed


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failure a deletion is tried again."""
    if attempts <= 0:
        return timedelta(0)
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LONGEST_RETRY)


def should_tell(attempts: int) -> bool:
    """The failure after which the operator hears that copies are still waiting."""
    return attempts == TELL_AFTER
