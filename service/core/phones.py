"""Phone numbers in, E.164 out (phonenumbers, the libphonenumber port).

A number typed without its country code is read in the program's country ("07911 123456"
in GB is +447911123456); facilitators see numbers of that country in its national format.
"""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """The text is not a phone number that can receive texts."""


def normalize_phone(raw: str, default_region: str | None = "US") -> str:
    """'(555) 010-0200' → '+15550100200'; raises InvalidPhone with a plain reason."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("a phone number is required")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{text!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None, country: str | None = "US") -> str:
    """'+447911123456' in a GB program -> '07911 123456'; a number from elsewhere in its
    international format ('+1 201-555-0123'); anything unreadable as it is."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    # By calling code: +44 7911 is Guernsey's range to phonenumbers, dialled as in GB.
    if number.country_code == phonenumbers.country_code_for_region((country or "").upper()):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def is_e164(text: str) -> bool:
    try:
        return normalize_phone(text, None) == text
    except InvalidPhone:
        return False
