"""The read API's pure rules: tokens, cursors and signed audio links."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core import api_tokens, cursors, signed_urls


def test_a_token_is_kept_as_its_hash_and_shown_by_its_start():
    token = api_tokens.token_from("A" * 43)
    assert token.startswith("rlg_")
    assert len(api_tokens.token_hash(token)) == 64 and token not in api_tokens.token_hash(token)
    assert api_tokens.token_hash(token) != api_tokens.token_hash(token + "x")
    assert api_tokens.shown_part(token) == token[:12]
    with pytest.raises(ValueError):
        api_tokens.token_from("short")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer rlg_abc", "rlg_abc"),
        ("bearer   rlg_abc  ", "rlg_abc"),
        ("Basic rlg_abc", None),
        ("Bearer abc", None),
        ("Bearer", None),
        ("", None),
        (None, None),
        ("Bearer rlg_" + "x" * 300, None),
    ],
)
def test_the_token_is_read_from_a_bearer_header_only(header, token):
    assert api_tokens.bearer(header) == token


def test_names_and_scopes_are_checked():
    assert api_tokens.clean_name("  Case   sync ") == "Case sync"
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(ValueError):
            api_tokens.clean_name(bad)
    assert api_tokens.clean_scopes(["phones", "phones"]) == ["phones"]
    with pytest.raises(ValueError, match="Unknown scope"):
        api_tokens.clean_scopes(["write"])


@given(st.integers(min_value=0, max_value=cursors.MAX_ID))
def test_a_cursor_gives_back_its_id(last_id):
    assert cursors.decode(cursors.encode(last_id)) == last_id


@given(st.text(max_size=60))
def test_anything_else_is_not_a_cursor(text):
    """Any text decodes to an id the database can hold, or is refused with ValueError."""
    try:
        value = cursors.decode(text)
    except ValueError:
        return
    assert 0 <= value <= cursors.MAX_ID


def test_a_next_cursor_exists_only_when_a_row_is_left_over():
    assert cursors.next_cursor([1, 2, 3], 3) is None
    assert cursors.decode(cursors.next_cursor([1, 2, 3, 4], 3)) == 3
    with pytest.raises(ValueError):
        cursors.decode(cursors.encode(cursors.MAX_ID + 1))


def test_an_audio_link_is_valid_for_its_recording_token_and_window_only():
    key, now = b"k" * 32, 1_000_000.0
    expires = signed_urls.expiry(now)
    assert now + signed_urls.WINDOW_SECONDS <= expires <= now + 2 * signed_urls.WINDOW_SECONDS
    assert signed_urls.expiry(now + 1) == expires  # the same link within a window
    sig = signed_urls.signature(key, 7, 3, expires)
    assert signed_urls.is_valid(key, 7, 3, expires, sig, now)
    assert not signed_urls.is_valid(key, 8, 3, expires, sig, now)  # another recording
    assert not signed_urls.is_valid(key, 7, 4, expires, sig, now)  # another token
    assert not signed_urls.is_valid(b"j" * 32, 7, 3, expires, sig, now)  # another key
    assert not signed_urls.is_valid(key, 7, 3, expires, sig, expires + 1)  # expired
    far = expires + 10_000  # an expiry pushed out by hand is refused even if signed
    assert not signed_urls.is_valid(key, 7, 3, far, signed_urls.signature(key, 7, 3, far), now)


def test_a_webhook_signature_covers_timestamp_and_body():
    from service.core import webhook_signing as w

    header = w.header("whsec_x", 1_000, b'{"a":1}')
    assert header.startswith("t=1000,v1=")
    assert w.verify("whsec_x", header, b'{"a":1}', 1_100)
    assert not w.verify("whsec_x", header, b'{"a":2}', 1_100)  # another body
    assert not w.verify("whsec_y", header, b'{"a":1}', 1_100)  # another secret
    assert not w.verify("whsec_x", header, b'{"a":1}', 1_000 + 301)  # a replay
    assert not w.verify("whsec_x", header.replace("t=1000", "t=1001"), b'{"a":1}', 1_100)
    for bad in (None, "", "t=x,v1=y", "v1=abc"):
        assert not w.verify("whsec_x", bad, b"", 1_000)


def test_webhook_retries_back_off_to_an_hour_and_stop_after_a_day():
    from service.core import webhook_signing as w

    delays = [w.retry_delay(n) for n in range(1, 12)]
    assert delays[:4] == [30, 60, 120, 240] and max(delays) == 3600
    assert delays == sorted(delays)
    assert not w.gives_up(0, 24 * 3600) and w.gives_up(0, 24 * 3600 + 1)
