"""Phone numbers in, E.164 out (phonenumbers, the libphonenumber port)."""

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


def is_e164(text: str) -> bool:
    try:
        return normalize_phone(text, None) == text
    except InvalidPhone:
        return False
