"""Run a command and start it again whenever it exits on its own: `respawn.py CMD ARGS...`.

honcho (`make dev`) stops the whole stack when one of its processes exits; each process in
Procfile.dev runs under this, so one that dies (a crash, a Redis blip it did not survive)
comes back after a short wait (0.5 s, doubling to 10 s; back to 0.5 s after a run of 30 s)
instead. SIGTERM or SIGINT stops it: the signal goes to the command, this waits for it (up
to GRACE seconds, then kills it) and exits, leaving nothing running.

The command runs in its own process group, so a signal sent to this script's group (as
honcho sends one) reaches it once, from here, and never twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

FIRST, CAP, SETTLE = 0.5, 10.0, 30.0
GRACE = 4.0  # honcho kills what is left 5 s after it stops the stack


def main(argv: list[str]) -> int:
    if not argv:
        sys.exit("usage: respawn.py CMD [ARGS...]")
    stops: list[int] = []  # the signals that asked us to stop
    child: subprocess.Popen | None = None

    def on_signal(signum, frame):
        stops.append(signum)
        if child is not None:
            _signal_group(child, signum if len(stops) == 1 else signal.SIGKILL)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    delay = FIRST
    while not stops:
        started = time.monotonic()
        child = subprocess.Popen(argv, process_group=0)
        if stops:  # a signal came while it was starting
            _signal_group(child, stops[0])
        code = _wait(child, stops)
        _signal_group(child, signal.SIGTERM)  # anything it left behind in its group
        if stops:
            return code if code >= 0 else 128 - code
        if time.monotonic() - started >= SETTLE:
            delay = FIRST
        print(
            f"respawn: `{' '.join(argv)}` exited with {code}; restarting in {delay:g} s",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + delay
        while not stops and time.monotonic() < deadline:
            time.sleep(0.05)
        delay = min(delay * 2, CAP)
    return 0


def _wait(child: subprocess.Popen, stops: list[int]) -> int:
    """Its exit code; once a stop has been asked for, at most GRACE seconds, then a kill."""
    stop_at = None
    while True:
        try:
            return child.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
        if stops and stop_at is None:
            stop_at = time.monotonic() + GRACE
        if stop_at is not None and time.monotonic() > stop_at:
            _signal_group(child, signal.SIGKILL)


def _signal_group(child: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
