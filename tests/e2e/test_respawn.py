"""scripts/respawn.py (each process of `make dev`) restarts a command that exits on its own,
and stops it, leaving nothing running, on SIGTERM or SIGINT."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESPAWN = ROOT / "scripts" / "respawn.py"
# By path, not via sys.path: scripts/ is a folder of scripts, not a package.
_spec = importlib.util.spec_from_file_location("respawn", RESPAWN)
respawn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(respawn)
GRACE = respawn.GRACE


def _respawn(*command: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(RESPAWN), *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def _alive(pid: int) -> bool:
    """Running (a zombie, or a pid nobody has, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_a_command_that_exits_is_started_again(tmp_path):
    runs = tmp_path / "runs"
    child = f"import sys; open({str(runs)!r}, 'a').write('ran\\n'); sys.exit(1)"
    proc = _respawn(sys.executable, "-c", child)
    try:
        _wait_until(
            lambda: runs.exists() and len(runs.read_text().splitlines()) >= 3,
            15,
            "the command was not restarted",
        )
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
        _, err = proc.communicate()
    finally:
        _kill(proc)
    restarts = [line for line in err.splitlines() if line.startswith("respawn:")]
    assert len(restarts) >= 2
    assert "exited with 1; restarting in 0.5 s" in restarts[0]
    assert "restarting in 1 s" in restarts[1]  # the wait doubles
    assert "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_command_and_respawn(tmp_path, sig):
    pidfile = tmp_path / "pid"
    child = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    proc = _respawn(sys.executable, "-c", child, stderr=subprocess.DEVNULL)
    try:
        _wait_until(lambda: pidfile.exists() and pidfile.read_text(), 15, "no child")
        pid = int(pidfile.read_text())
        started = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=5)
        assert time.monotonic() - started < 2  # the child stops at once: no grace needed
        assert code == 128 + sig  # the child's own end, by the forwarded signal
        assert not _alive(pid)
    finally:
        _kill(proc)


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    pidfile = tmp_path / "pid"
    child = (
        "import os, signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
        "time.sleep(60)"
    )
    proc = _respawn(sys.executable, "-c", child, stderr=subprocess.DEVNULL)
    try:
        _wait_until(lambda: pidfile.exists() and pidfile.read_text(), 15, "no child")
        pid = int(pidfile.read_text())
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=GRACE + 3)
        assert GRACE - 0.5 < time.monotonic() - started < GRACE + 3
        assert not _alive(pid)
    finally:
        _kill(proc)


def test_a_stop_while_waiting_to_restart_exits_at_once(tmp_path):
    runs = tmp_path / "runs"
    child = f"open({str(runs)!r}, 'a').write('ran\\n')"  # exits 0 at once, every time
    proc = _respawn(sys.executable, "-c", child)
    try:
        _wait_until(lambda: runs.exists(), 15, "the command never ran")
        time.sleep(0.2)  # it has exited: respawn waits to start it again
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=2) == 0
    finally:
        _kill(proc)
