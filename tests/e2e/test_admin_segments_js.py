"""The admin's live segment counter (admin/static/realign/segments.js) agrees with
service/segments.py on encoding, units and segments, run in a real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.core.segments import segment_info
from service.core.texts import SAMPLE_VALUES, TEMPLATES
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, missing_chromium

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")

SCRIPT = Path(__file__).resolve().parents[2] / "admin" / "static" / "realign" / "segments.js"

CASES = [
    "",
    "a",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    "€" * 80,  # extension: two septets each
    "€" * 81,
    "a" * 152 + "€" + "a" * 10,  # an escape pair never straddles a segment boundary
    "é" * 160,  # GSM-7 basic
    "á" * 70,  # UCS-2
    "á" * 71,
    "🙂" * 35,  # surrogate pairs
    "🙂" * 36,
    "a" * 66 + "🙂" + "á" * 10,
    "Reply “YES” to begin",
    "line\nbreak\r\nand {braces} [ok] ~ ^ | \\",
    *(text.format_map(SAMPLE_VALUES) for t in TEMPLATES.values() for text in t.values()),
]


def test_javascript_counter_matches_python():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content("<!doctype html><title>t</title>")
            page.add_script_tag(content=SCRIPT.read_text())
            results = page.evaluate(
                "cases => cases.map(t => { const i = window.realignSegmentInfo(t);"
                " return [i.encoding, i.units, i.segments, i.perSegment]; })",
                CASES,
            )
        finally:
            browser.close()
    for text, got in zip(CASES, results, strict=True):
        info = segment_info(text)
        assert got == [info.encoding, info.units_used, info.segments, info.chars_per_segment], text
