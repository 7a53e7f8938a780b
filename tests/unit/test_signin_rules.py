"""The sign-in limits, and what a refused sign-in reads."""

from __future__ import annotations

import pytest

from service.core.signin import ACCOUNT_LIMIT, ADDRESS_LIMIT, wait_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "Too many tries; wait 1 minute."),
        (60, "Too many tries; wait 1 minute."),
        (61, "Too many tries; wait 2 minutes."),
        (900, "Too many tries; wait 15 minutes."),
    ],
)
def test_a_refused_sign_in_reads_the_wait_in_whole_minutes(seconds, text):
    assert wait_text(seconds) == text


def test_an_address_gets_more_tries_than_one_account():
    assert 0 < ACCOUNT_LIMIT < ADDRESS_LIMIT
