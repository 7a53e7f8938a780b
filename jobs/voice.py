"""RQ jobs for voice: place a call, settle a recording, and the voice sweep."""

from __future__ import annotations

from jobs.context import current
from service.voice import calls, keeping, recordings


def place_call(call_id: int) -> str:
    """Place one due outbound call (at most once per attempt)."""
    return calls.place(current(), call_id)


def settle_recording(reflection_id: int) -> str:
    """Download a kept recording and delete Twilio's copy, as far as is due."""
    return recordings.settle(current(), reflection_id)


def sweep_voice() -> dict:
    """Due and retried calls, recordings nobody chose for, and unsettled recordings."""
    services = current()
    return {
        "calls": calls.sweep(services),
        "kept_undecided": keeping.keep_undecided(services),
        "recordings": recordings.sweep(services),
    }
