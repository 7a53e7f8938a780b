"""A program's settings as the rules read them: its options (with defaults) and waking hours.

The one place waking hours come from: every text and call a program starts waits for them.
"""

from __future__ import annotations

from datetime import time

from service.core import schedule

DEFAULT_OPTIONS = {
    "nudge_delay_minutes": 120,
    "max_nudges": 1,
    "adaptive_cadence": False,
    "ladder_step": 5,
    "two_sided": False,
    "milestones": [7, 30, 90],
    "weekly_summary": True,
    "daily_digest": False,
    "recording_max_seconds": 180,
    "delete_recordings_at_twilio": True,
    "call_retries": 2,
}


def option(program, name: str):
    """A program option, falling back to the default."""
    return (program.options or {}).get(name, DEFAULT_OPTIONS[name])


def parse_hhmm(text: str) -> time:
    try:
        hours, minutes = (text or "").strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{text!r} is not a time like 08:00") from None


def quiet_hours(program) -> schedule.QuietHours:
    """The program's waking window: texts and calls leave only inside it."""
    return schedule.QuietHours(parse_hhmm(program.quiet_start), parse_hhmm(program.quiet_end))
