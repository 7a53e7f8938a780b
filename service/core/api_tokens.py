"""API tokens: their shape, how they are kept (a SHA-256, never the token) and read from
an `Authorization` header. The randomness is passed in."""

from __future__ import annotations

import hashlib

from service.core.enums import ApiScope

PREFIX = "rlg_"
SHOWN = 12  # characters of a token listed beside its name (the prefix and 8 more)
MAX_NAME = 80


def token_from(random_text: str) -> str:
    """A token from url-safe random text (at least 32 characters: 190 bits)."""
    if len(random_text) < 32:
        raise ValueError("a token needs at least 32 random characters")
    return PREFIX + random_text


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def shown_part(token: str) -> str:
    return token[:SHOWN]


def bearer(header: str | None) -> str | None:
    """The token in `Authorization: Bearer <token>`, or None (absent, another scheme,
    blank or not one of ours)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(PREFIX) or len(value) > 200:
        return None
    return value


def clean_name(name: str | None) -> str:
    """The token's name as given (trimmed); ValueError says what is wrong."""
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("Please give the token a name, such as the system that will use it.")
    if len(name) > MAX_NAME:
        raise ValueError(f"A token's name is at most {MAX_NAME} characters.")
    return name


def clean_scopes(scopes) -> list[str]:
    """Known scopes only, each once, in a stable order; ValueError names an unknown one."""
    wanted = set()
    for scope in scopes or ():
        if scope not in ApiScope.values():
            known = ", ".join(ApiScope.values())
            raise ValueError(f"Unknown scope {scope!r}: known scopes are {known}.")
        wanted.add(scope)
    return [s for s in ApiScope.values() if s in wanted]
