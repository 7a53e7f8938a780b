"""A program's settings as the rules read them: its options (with defaults) and waking hours.

The one place waking hours come from: every text and call a program starts waits for them.
"""

from __future__ import annotations

from datetime import time

from service.core import schedule
from service.core.enums import N_

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
    "quiet_days": 3,
}


# What each option is called where people read it.
OPTION_LABELS = {
    "nudge_delay_minutes": N_("Nudge after (minutes)"),
    "max_nudges": N_("Nudges per check-in"),
    "adaptive_cadence": N_("Adaptive cadence"),
    "ladder_step": N_("Kept check-ins per ladder step"),
    "two_sided": N_("Two-sided check-ins"),
    "milestones": N_("Streak milestones"),
    "weekly_summary": N_("Weekly summary to participants"),
    "daily_digest": N_("Daily digest to facilitators"),
    "recording_max_seconds": N_("Longest recording (seconds)"),
    "delete_recordings_at_twilio": N_("Delete recordings at Twilio once stored"),
    "call_retries": N_("Call retries"),
    "quiet_days": N_("Quiet after (days without a reply)"),
}


def option_text(value) -> str:
    """An option's value as people read it: Yes/No, "7, 30, 90", a number."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    return str(value)


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
