"""The one-command local stack (`make dev`, scripts/dev.py) starts, serves and stops cleanly.

It runs for real in a subprocess: embedded Redis, SQLite, honcho with web + worker + cron,
on a temporary instance folder and a free port. It always uses SQLite and the embedded
Redis (what `make dev` uses on a fresh machine), even when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90  # seconds; a cold start is mostly Python imports in four processes
STOP_TIMEOUT = 15


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, data: bytes | None = None, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers.get("Server") is None, url  # no banner (gunicorn.conf.py)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_dev_script_runs_the_whole_stack_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    instance = tmp_path / "instance"
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REALIGN_ENV": "development",
        "REALIGN_INSTANCE_DIR": str(instance),
        "PORT": str(port),
        "PUBLIC_BASE_URL": base,
        # Empty values win over a developer's .env: this is the fresh-machine setup.
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_API_BASE_URL": "",
        "HEALTH_TOKEN": "dev-health-token",
    }
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        dev = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "dev.py")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    processes: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "Realign is running" not in log.read_text():
            assert dev.poll() is None, f"dev.py exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no banner in time:\n{log.read_text()}"
            time.sleep(0.2)
        assert f"Admin: {base}/admin/" in log.read_text()
        processes = psutil.Process(dev.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in processes)
        for part in ("redis-server", "gunicorn", "jobs.worker", "jobs.cron"):
            assert part in names
        pools = [
            p for p in processes if p.cmdline()[1:] == ["-m", "jobs.worker", "--processes", "2"]
        ]
        assert len(pools) == 1 and len(pools[0].children()) == 2, "a pool of two workers"

        # What participants say lands in here (the database, the embedded Redis's files):
        # owner-only, every folder 0700 and every file 0600.
        loose = [
            (str(p.relative_to(instance)), oct(p.stat().st_mode & 0o777))
            for p in [instance, *instance.rglob("*")]
            if (p.is_dir() and p.stat().st_mode & 0o077)
            or (p.is_file() and p.stat().st_mode & 0o177)
        ]
        assert loose == []

        status, body = _request(f"{base}/healthz")
        assert (status, json.loads(body)) == (200, {"ok": True}), body  # the public's answer
        status, body = _request(f"{base}/healthz", Authorization="Bearer dev-health-token")
        assert status == 200, body
        health = json.loads(body)
        assert health["database"] == "ok" and health["redis"] == "ok"
        status, body = _request(f"{base}/admin/login")
        assert status == 200, body[:500]
        status, _ = _request(f"{base}/twilio/sms", b"From=%2B12015550123&Body=hello")
        assert status == 403  # no X-Twilio-Signature

        started = time.monotonic()
        os.killpg(dev.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        dev.wait(timeout=STOP_TIMEOUT)
        _, alive = psutil.wait_procs(
            processes, timeout=max(0.1, started + STOP_TIMEOUT - time.monotonic())
        )
        assert not alive, f"left running: {alive}"
        assert not (instance / "redis.sock").exists()
        assert "Traceback" not in log.read_text(), log.read_text()
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
        for proc in processes:
            if proc.is_running():
                proc.kill()
