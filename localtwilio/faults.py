"""Failure injection: rules per destination number (or for every number)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from localtwilio.shapes import API_ERRORS, DELIVERY_ERRORS, STATUS_CODES

Kind = Literal["api", "delivery", "hang", "call"]
CALL_OUTCOMES = ("completed", "no-answer", "busy", "failed", "canceled")
ANY = "*"  # the key of rules that apply to every number


@dataclass
class Rule:
    """One injected behaviour; `times=None` means until cleared."""

    kind: Kind
    code: int | None = None
    http_status: int | None = None
    delivery_status: str = "undelivered"
    seconds: float = 0.0
    after_record: bool = False
    outcome: str = "completed"
    times: int | None = None


def failure_rule(code: int, *, times: int | None = None, status: str = "undelivered") -> Rule:
    """An API error (21610, 429, 500…) or a delivery error (30003…) from a code."""
    code = STATUS_CODES.get(code, code)
    if code in DELIVERY_ERRORS:
        if status not in ("undelivered", "failed"):
            raise ValueError("a delivery error ends 'undelivered' or 'failed'")
        return Rule("delivery", code=code, delivery_status=status, times=times)
    if code in API_ERRORS or 20000 <= code < 30000:
        return Rule("api", code=code, times=times)
    raise ValueError(f"unknown error code {code}")


def call_rule(outcome: str, *, times: int | None = None) -> Rule:
    if outcome not in CALL_OUTCOMES:
        raise ValueError(f"call outcome must be one of {', '.join(CALL_OUTCOMES)}")
    return Rule("call", outcome=outcome, times=times)


def hang_rule(seconds: float, *, after_record: bool = False, times: int | None = None) -> Rule:
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    return Rule("hang", seconds=seconds, after_record=after_record, times=times)


class Faults:
    """Thread-safe rule book. A number's own rules win over the rules for every number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, list[Rule]] = {}

    def add(self, rule: Rule, to: str | None = None) -> None:
        if rule.times is not None and rule.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._rules.setdefault(to or ANY, []).append(rule)

    def take(self, kind: Kind, to: str | None) -> Rule | None:
        """The first matching rule for `to`, using up one of its `times`."""
        with self._lock:
            if not self._rules:  # the common, fast path
                return None
            for key in (to or "", ANY):
                rules = self._rules.get(key, [])
                for rule in rules:
                    if rule.kind != kind:
                        continue
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times == 0:
                            rules.remove(rule)
                            if not rules:
                                del self._rules[key]
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def snapshot(self) -> dict[str, list[dict]]:
        with self._lock:
            return {
                key: [vars(rule).copy() for rule in rules] for key, rules in self._rules.items()
            }
