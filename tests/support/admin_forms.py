"""Form data for the admin's hand-built forms (a full, valid submission to start from)."""

from __future__ import annotations


def program_form(**changes) -> dict:
    """Every field of the program form (admin/programs.py), valid, with `changes` applied."""
    data = {
        "name": "Team reset",
        "sender_number": "",
        "messaging_service_sid": "",
        "timezone": "UTC",
        "language": "en",
        "cadence_kind": "daily",
        "cadence_every": "2",
        "cadence_time": "19:00",
        "quiet_start": "08:00",
        "quiet_end": "21:00",
        "pacing": "immediate",
        "start_date": "",
        "end_date": "",
        "nudge_delay_minutes": "120",
        "max_nudges": "1",
        "ladder_step": "5",
        "milestones": "7, 30, 90",
        "weekly_summary": "y",
        "recording_max_seconds": "180",
        "delete_recordings_at_twilio": "y",
        "call_retries": "2",
        "quiet_days": "3",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
