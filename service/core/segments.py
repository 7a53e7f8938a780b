"""SMS segment maths: which encoding a text needs and how many segments it costs.

A text that uses only the GSM 03.38 alphabet (basic set plus extension table) is sent as
GSM-7: 160 septets in one segment, 153 per segment once it is split. Anything else forces
UCS-2 for the whole message: 70 UTF-16 code units in one segment, 67 per segment once split.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

# GSM 03.38 basic character set (3GPP TS 23.038), one septet each. ESC (0x1B) is not a
# character of its own: it introduces the extension table below.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# Extension table: each costs two septets (ESC + code).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]


class SegmentInfo(NamedTuple):
    """How a text is sent: encoding, units used, segment count and units per segment."""

    encoding: Encoding
    units_used: int
    segments: int
    chars_per_segment: int


def is_gsm7(text: str) -> bool:
    """True if every character of `text` is in the GSM-7 basic set or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _gsm7_units(ch: str) -> int:
    return 2 if ch in GSM7_EXTENSION else 1


def _ucs2_units(ch: str) -> int:
    # Characters outside the Basic Multilingual Plane (most emoji) need a surrogate pair.
    return 2 if ord(ch) > 0xFFFF else 1


def _count_segments(text: str, units_of, per_segment: int) -> int:
    # Greedy packing, because a phone cannot join a character split across two parts:
    # an escape sequence or a surrogate pair that would straddle the boundary moves whole
    # to the next segment, so the count can exceed ceil(units / per_segment).
    segments, used = 1, 0
    for ch in text:
        size = units_of(ch)
        if used + size > per_segment:
            segments, used = segments + 1, 0
        used += size
    return segments


def segment_info(text: str) -> SegmentInfo:
    """Encoding, units used, number of segments and units per segment for `text`.

    An empty text costs 0 segments (there is nothing to send).
    """
    if is_gsm7(text):
        encoding: Encoding = "GSM-7"
        units_of, single, multi = _gsm7_units, GSM7_SINGLE, GSM7_MULTI
    else:
        encoding = "UCS-2"
        units_of, single, multi = _ucs2_units, UCS2_SINGLE, UCS2_MULTI
    units = sum(units_of(ch) for ch in text)
    if units == 0:
        return SegmentInfo(encoding, 0, 0, single)
    if units <= single:
        return SegmentInfo(encoding, units, 1, single)
    return SegmentInfo(encoding, units, _count_segments(text, units_of, multi), multi)


def fits_one_segment(text: str) -> bool:
    """True if `text` goes out as a single SMS segment."""
    return segment_info(text).segments <= 1
