"""Waits between retries: after a Redis error, after a pool member died."""

from __future__ import annotations


class Backoff:
    """Waits that double from `first` to `cap`; back to `first` after a run of `settle` s."""

    def __init__(self, first: float = 0.5, cap: float = 30.0, settle: float = 60.0):
        self.first, self.cap, self.settle = first, cap, settle
        self.delay = first

    def next(self, ran_for: float) -> float:
        if ran_for >= self.settle:
            self.delay = self.first
        delay, self.delay = self.delay, min(self.delay * 2, self.cap)
        return delay
