"""How many sign-in tries the admin accepts, and what a refused one is told.

Tries are counted per account (whatever the address they come from, so spreading guesses
over many machines gains nothing) and per client address (whatever the account, so trying
one password on every account gains nothing). An address gets more tries than an account:
several facilitators may share an office's address, and each may mistype.
"""

from __future__ import annotations

import math

ACCOUNT_LIMIT = 5  # tries at one account within the window
ADDRESS_LIMIT = 20  # tries from one client address within the window
WINDOW_S = 15 * 60


def wait_text(seconds: int) -> str:
    """What a refused sign-in reads: the wait in whole minutes, rounded up."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"Too many tries; wait {minutes} minute{'' if minutes == 1 else 's'}."
