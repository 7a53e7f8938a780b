"""Cursor pagination: a page ends at a row id and the next starts after it (keyset), so
rows inserted meanwhile never shift or repeat a page. The cursor is opaque to callers."""

from __future__ import annotations

import base64
import binascii

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_ID = 2**31 - 1  # the database's integer ids
_TAG = "after:"


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_TAG}{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    """The id a cursor continues after; ValueError for anything not made by `encode`."""
    if not cursor or len(cursor) > 40:
        raise ValueError("not a cursor this API gave")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor this API gave") from None
    digits = text.removeprefix(_TAG)
    if not text.startswith(_TAG) or not digits.isdigit() or not digits.isascii():
        raise ValueError("not a cursor this API gave")
    value = int(digits)
    if value > MAX_ID:
        raise ValueError("not a cursor this API gave")
    return value


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor after a page of `ids` fetched with one row more than `limit` (the extra
    row only says that a next page exists)."""
    if len(ids) <= limit:
        return None
    return encode(ids[limit - 1])
