"""Which program a text or a call reaches, and so which enrolment a person speaks in.

One rule for texts and calls alike: a program answers on its own number (or, without
one, the account's default number) and on its own Messaging Service (or, with no number
of its own, the default one).
A text names the number it was sent to and, through a service, the service; a call names
only the number. With no number and no service anywhere (local use), every program
answers: there is nothing to tell them apart by.

So that a text always reaches exactly one enrolment, and nobody's texts can be drawn into
someone else's program, two more rules hold the lines apart:
- a number or Messaging Service of a program's own belongs to one owner's programs (the
  account's default number and service are shared: every program without its own uses them);
- on a line several programs share, a phone has at most one open (not closed) enrolment.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.core.enums import ParticipantStatus


@dataclass(frozen=True)
class Defaults:
    """The account-wide sender: TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID."""

    from_number: str | None = None
    service_sid: str | None = None


@dataclass(frozen=True)
class Line:
    """What a program answers on: a number and a Messaging Service (either may be None;
    neither means every text and call, local use)."""

    number: str | None
    service: str | None


def line_of(program, defaults: Defaults) -> Line:
    """The number and service `program` answers on: its own, or the account's defaults."""
    number = program.sender_number or defaults.from_number
    service = program.messaging_service_sid or (
        None if program.sender_number else defaults.service_sid
    )
    return Line(number or None, service or None)


def reaches(program, to_number: str, service_sid: str | None, defaults: Defaults) -> bool:
    """Whether a text or call to `to_number` (through `service_sid`) is for `program`."""
    line = line_of(program, defaults)
    if not line.number and not line.service:
        return True
    return bool(
        (line.number and to_number == line.number)
        or (line.service and service_sid and service_sid == line.service)
    )


def share(a: Line, b: Line) -> bool:
    """Whether a text or call could reach both lines' programs."""
    if not (a.number or a.service) or not (b.number or b.service):
        return True
    return bool((a.number and a.number == b.number) or (a.service and a.service == b.service))


def taken_part(program, owner_id: int, others, defaults: Defaults) -> str | None:
    """ "number" or "service" when `program`'s own number or service is one that another
    owner's program (of `others`, (program, owner id) pairs) already answers on; else None.
    The account's defaults are shared, so never taken."""
    number = program.sender_number
    service = program.messaging_service_sid
    for other, other_owner in others:
        if other_owner == owner_id or other.id == program.id:
            continue
        theirs = line_of(other, defaults)
        if number and number != defaults.from_number and number == theirs.number:
            return "number"
        if service and service != defaults.service_sid and service == theirs.service:
            return "service"
    return None


def is_open(participant) -> bool:
    """An enrolment a text may still be for (closed ones only answer HELP)."""
    return participant.status != ParticipantStatus.CLOSED


def clashes(line: Line, enrolments, defaults: Defaults, *, besides=None) -> bool:
    """Whether any open enrolment of (participant, program) pairs, other than in the program
    `besides` (an id), is on a program sharing `line`: a second open enrolment there would
    make a text's enrolment ambiguous."""
    return any(
        is_open(p) and program.id != besides and share(line, line_of(program, defaults))
        for p, program in enrolments
    )


def choose(enrolments, to_number: str, service_sid: str | None, defaults: Defaults):
    """Of (participant, program) pairs for one phone, the enrolment this text or call is
    for: on a program it reaches; an open enrolment before a closed one; the most recent."""
    found = reached(enrolments, to_number, service_sid, defaults)
    return found[0] if found else None


def reached(enrolments, to_number: str, service_sid: str | None, defaults: Defaults) -> list:
    """The participants of (participant, program) pairs on programs this text or call
    reaches, the one it is for (see `choose`) first."""
    found = [p for p, program in enrolments if reaches(program, to_number, service_sid, defaults)]
    found.sort(key=lambda p: (p.status == ParticipantStatus.CLOSED, -p.id))
    return found
