"""What makes a facilitator's password acceptable: long enough, and not a common one.

Facilitators' accounts open what participants said about a broken trust, so a password
must hold against guessing: at least 12 characters, and not among the passwords people pick
most (a list passed in; service/program/accounts.py passes zxcvbn's 30,000).
"""

from __future__ import annotations

from collections.abc import Container

MIN_LENGTH = 12


def weakness(password: str, common: Container[str]) -> str | None:
    """Why `password` may not be used (a sentence for the person choosing it), or None."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if password.strip().lower() in common:
        return "That password is one of the most common ones, easy to guess: choose another."
    return None
