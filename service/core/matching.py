"""Which program a text or a call reaches, and so which enrolment a person speaks in.

One rule for texts and calls alike: a program answers on its own number (or, without
one, the account's default number) and on its own Messaging Service (or, with no number
of its own, the default one).
A text names the number it was sent to and, through a service, the service; a call names
only the number. With no number and no service anywhere (local use), every program
answers: there is nothing to tell them apart by.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.core.enums import ParticipantStatus


@dataclass(frozen=True)
class Defaults:
    """The account-wide sender: TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID."""

    from_number: str | None = None
    service_sid: str | None = None


def reaches(program, to_number: str, service_sid: str | None, defaults: Defaults) -> bool:
    """Whether a text or call to `to_number` (through `service_sid`) is for `program`."""
    number = program.sender_number or defaults.from_number
    service = program.messaging_service_sid or (
        None if program.sender_number else defaults.service_sid
    )
    if not number and not service:
        return True
    return bool(
        (number and to_number == number) or (service and service_sid and service_sid == service)
    )


def choose(enrolments, to_number: str, service_sid: str | None, defaults: Defaults):
    """Of (participant, program) pairs for one phone, the enrolment this text or call is
    for: on a program it reaches; an open enrolment before a closed one; the most recent."""
    reached = [p for p, program in enrolments if reaches(program, to_number, service_sid, defaults)]
    reached.sort(key=lambda p: (p.status == ParticipantStatus.CLOSED, -p.id))
    return reached[0] if reached else None
