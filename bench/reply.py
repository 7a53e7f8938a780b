"""How fast a participant's reply comes back: texts in, replies out, the whole stack running.

The processes are the Procfile's own: its `web:`, `worker:` and `cron:` lines, each run
with `bash -c` in the tree being measured (`--root DIR`, default this checkout: cwd DIR,
DIR's code first on PYTHONPATH, DIR/.venv/bin first on PATH), with PORT, PUBLIC_BASE_URL
and the Twilio settings pointing at the local Twilio API (bench/_common.py starts it from
this checkout), and the per-number send cap off (SENDER_MPS=0): the numbers measure
queueing, not pacing. The schema is migrated as for every benchmark here; another tree's
database is emptied and migrated again by that tree's own `release:` line. PostgreSQL /
Redis when BENCH_DATABASE_URL / BENCH_REDIS_URL are set, else SQLite / an embedded Redis.

One program; every text comes from a participant who has not texted before in the run:
consented participants in step 1 whose first question is open, each telling what happened,
which is answered at once (an acknowledgement and the next question). Measured:

1. turns_per_s: 3,000 such texts stored through the webhook with no worker running, then
   ONE `python -m jobs.worker --burst` process (a pool option, if the tree's worker has
   one, forced to a single process): texts turned per second from its start until the last
   of their replies reached the Twilio API;
2. open-loop phases of signed webhook posts (as Twilio signs them, against
   PUBLIC_BASE_URL) at 5, 20 and 50 texts/s, 20 s each, with the Procfile's worker and
   cron running. Reply latency = when the local API recorded the create for the reply to
   that number minus when the post was sent; webhook = the post's own response time (the
   floor under any reply latency);
3. the wave: 10,000 other participants (step 5, commitments live) are made due at the next
   whole minute; from that minute texts come at 20/s for 20 s while the cron's tick sends
   the check-ins. Every due check-in must reach the API exactly once; wave_last_s is how
   long after the minute the last one arrived.

Each run checks itself: every post answered 200, every text answered, every check-in sent
exactly once; if not, it says so above the BENCH line and exits 1.

Afterwards: the highest RSS seen (VmRSS, sampled twice a second) of any one worker process
(the burst worker, the Procfile worker and any children) and of any one gunicorn worker.
BENCH_SMOKE=1: 200 texts for turns, 3 s phases, 300 due; then the phases may run after the
wave, whichever comes first on the clock, so a run never waits long for a whole minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _common as c
import requests
import sqlalchemy as sa

STORIES = (
    "We agreed to ship on Friday and I moved the date without telling anyone.",
    "I missed the investor meeting we had planned and did not call ahead.",
    "She asked me twice for the numbers and I kept saying tomorrow.",
    "I took the credit for the launch in the board meeting although he did most of it.",
)
RATES = (5, 20, 50)
WAVE_RATE = 20
WARM_ROUNDS, WARM_TEXTS = 3, 4  # texts before the phases, not counted
STORE_CONNECTIONS = 8  # posts in flight while the turns texts are stored


# The tree being measured --------------------------------------------------------------


def procfile(root: Path) -> dict[str, str]:
    """`name: command` lines of the tree's Procfile."""
    lines = {}
    for raw in (root / "Procfile").read_text().splitlines():
        if raw.lstrip().startswith("#"):
            continue
        name, sep, command = raw.partition(":")
        if sep and re.fullmatch(r"[A-Za-z0-9_-]+", name.strip()) and command.strip():
            lines[name.strip()] = command.strip()
    for needed in ("web", "worker", "cron"):
        if needed not in lines:
            raise SystemExit(f"{root / 'Procfile'} has no {needed}: line")
    return lines


def tree_env(be: c.Backend, root: Path, **extra: str) -> dict[str, str]:
    """env_for(be), with the tree's code and venv instead of this checkout's."""
    env = c.env_for(be, **extra)
    venv_bin = root / ".venv" / "bin"
    if not (venv_bin / "python").exists():
        venv_bin = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join([str(venv_bin), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv_bin.parent)
    outer = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(root), *outer])
    # Nothing a developer's .env in the tree holds may send anywhere else or report out.
    env.setdefault("TWILIO_MESSAGING_SERVICE_SID", "")
    env.setdefault("SENTRY_DSN", "")
    return env


class TreeProc(c.Proc):
    """One Procfile line (`bash -c`), run in the tree: cwd there, its output in a log."""

    def __init__(self, name: str, line: str, env: dict[str, str], logdir: Path, cwd: Path):
        self.name = name
        self.line = line
        self.logfile = logdir / f"{name}.log"
        self._out = open(self.logfile, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            ["bash", "-c", line],
            cwd=cwd,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=c._die_with_parent,
        )


def run_in_tree(line: str, env: dict[str, str], root: Path, timeout: float = 120) -> str:
    done = subprocess.run(
        ["bash", "-c", line], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"`{line}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def inspect_tree(root: Path, env: dict[str, str]) -> tuple[str, list[str]]:
    """Where the processes import the code from (it must be the tree's own, not this
    checkout's editable install), and `--<pool option> 1` for each option of the tree's
    worker that sets how many processes it runs (none when it has no pool)."""
    script = (
        "import runpy, sys, service; print(service.__file__); "
        "sys.argv = ['jobs.worker', '--help']; runpy.run_module('jobs.worker', run_name='__main__')"
    )
    where, _, text = run_in_tree(f'python -c "{script}"', env, root).partition("\n")
    if not Path(where).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"the processes would import {where}, not the code in {root}")
    found = re.findall(
        r"(--[a-z0-9-]*(?:process|pool|worker|proc|concurrency)[a-z0-9-]*)[ =]+[A-Z_]+", text
    )
    return where, [part for option in dict.fromkeys(found) for part in (option, "1")]


def migrate_tree(be: c.Backend, root: Path, lines: dict[str, str], env: dict[str, str]) -> str:
    """An empty database, migrated by the tree's own migrate command (its release line)."""
    from service.infra.db import make_engine

    if be.postgres:
        engine = make_engine(be.database_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        Path(be.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    line = lines.get("release") or "python -m service.cli migrate"
    run_in_tree(line, env, root)
    return line


# Data ------------------------------------------------------------------------------------


def seed(services, waves: int, texters: int) -> tuple[int, range, range]:
    """Participants 1..waves in step 5 (nothing due), then `texters` in step 1 with their
    first question open. Returns (program id, wave ids, texter ids)."""
    now = datetime.now(UTC)
    # Whatever the hour: every text is inside waking hours in this program.
    program = c.make_program(
        services, timezone="UTC", quiet_start="00:00", quiet_end="23:59", options={}
    )
    wave_ids = range(1, waves + 1)
    later = now + timedelta(days=30)
    c.load_step5(services.engine, program.id, wave_ids, lambda _pid: later, now=now)
    texter_ids = range(waves + 1, waves + texters + 1)
    consented = now - timedelta(days=1)
    rows = (
        (pid, program.id, f"Participant {pid}", c.phone(pid), "UTC", "en", "active", 1,
         "step1_what_happened", consented, False, None, 0, consented, consented)
        for pid in texter_ids
    )  # fmt: skip
    c.bulk_insert(services.engine, "participant", c.PARTICIPANT_COLUMNS, rows)
    c.analyze(services.engine)
    return program.id, wave_ids, texter_ids


def make_due(engine, ids: range, at: datetime) -> None:
    from service.models import Participant

    table = Participant.__table__
    with engine.begin() as conn:
        conn.execute(
            sa.update(table).where(table.c.id.between(ids[0], ids[-1])).values(next_checkin_at=at)
        )


def answered(engine, ids: range) -> int:
    """How many of these participants have had a text sent to them (past the outbox)."""
    query = sa.text(
        "SELECT count(DISTINCT to_number) FROM message WHERE direction = 'out' "
        "AND to_number BETWEEN :lo AND :hi AND status NOT IN ('pending', 'claimed')"
    )
    with engine.connect() as conn:
        return conn.execute(query, {"lo": c.phone(ids[0]), "hi": c.phone(ids[-1])}).scalar_one()


def wait_answered(engine, ids: range, timeout: float, label: str) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        done = answered(engine, ids)
        if done >= len(ids):
            return True
        if time.monotonic() > deadline:
            c.log(f"  {label}: only {done:,} of {len(ids):,} answered after {timeout:.0f} s")
            return False
        time.sleep(0.2 if c.SMOKE else 0.5)


# Texts in --------------------------------------------------------------------------------


@dataclass
class Post:
    number: str
    sent: float  # time.time() as the post started
    took: float = float("nan")  # the webhook's response time, s
    status: int | str = 0


class Texter:
    """Signed inbound-text posts, as Twilio makes them, one new connection each."""

    def __init__(self, port: int, public_base: str):
        from twilio.request_validator import RequestValidator

        self.port = port
        self.url = public_base + "/twilio/sms"
        self.validator = RequestValidator(c.AUTH_TOKEN)

    def request(self, number: str, body: str) -> bytes:
        return c.signed_sms_request(self.validator, self.url, self.port, number, body, close=True)

    def prepare(self, ids: range) -> list[tuple[str, bytes]]:
        return [
            (c.phone(pid), self.request(c.phone(pid), STORIES[pid % len(STORIES)])) for pid in ids
        ]

    async def post(self, number: str, request: bytes) -> Post:
        post = Post(number, time.time())
        began = time.perf_counter()
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            post.status = int(lines[0].split(" ", 2)[1])
        except (OSError, asyncio.IncompleteReadError) as exc:
            post.status = type(exc).__name__
        finally:
            post.took = time.perf_counter() - began
            if writer is not None:
                writer.close()
        return post

    async def open_loop(self, prepared, rate: float, start_at: float | None = None) -> list[Post]:
        """One post every 1/rate s from `start_at` (time.time(); default: now), whatever
        the answers."""
        loop = asyncio.get_running_loop()
        lead = max(0.05, (start_at - time.time()) if start_at else 0.05)
        start = loop.time() + lead

        async def one(i: int, number: str, request: bytes) -> Post:
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            return await self.post(number, request)

        return list(await asyncio.gather(*(one(i, *p) for i, p in enumerate(prepared))))

    async def closed_loop(self, prepared, connections: int) -> list[Post]:
        """As fast as `connections` posts in flight allow."""
        pending = list(reversed(prepared))
        posts: list[Post] = []

        async def client() -> None:
            while pending:
                posts.append(await self.post(*pending.pop()))

        await asyncio.gather(*(client() for _ in range(connections)))
        return posts


# Texts out (what the local Twilio API recorded) -------------------------------------------


def creates_by_number(api_url: str) -> dict[str, list[float]]:
    """number → the instants (time.time()) of every accepted message create to it."""
    found: dict[str, list[float]] = defaultdict(list)
    records = requests.get(api_url + "/_control/requests", timeout=120).json()
    for r in records:
        if r["method"] == "POST" and r["path"].endswith("/Messages.json") and r["status"] == 201:
            to = (r["form"].get("To") or [""])[0]
            found[to].append(r["at"])
    for instants in found.values():
        instants.sort()
    return found


@dataclass
class Phase:
    label: str
    ids: range
    rate: float
    posts: list[Post]
    latencies: list[float] | None = None
    missing: int = 0

    def settle(self, creates: dict[str, list[float]]) -> None:
        self.latencies = []
        for post in self.posts:
            after = [at for at in creates.get(post.number, ()) if at >= post.sent]
            if after:
                self.latencies.append(after[0] - post.sent)
            else:
                self.missing += 1

    def ms(self, pct: float) -> float:
        return c.percentile(self.latencies or [], pct) * 1000

    @property
    def errors(self) -> dict:
        found: dict = {}
        for post in self.posts:
            if post.status != 200:
                found[post.status] = found.get(post.status, 0) + 1
        return found


# RSS ---------------------------------------------------------------------------------------


class RssSampler:
    """Twice a second: VmRSS of every process under each watched process (itself included),
    keeping the highest seen per process; `max_mb(role)` is the highest of those."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.watched: list[tuple[str, int, bool]] = []  # role, pid, children only
        self.peak: dict[tuple[str, int], int] = {}  # (role, pid) → kB
        self.names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss")

    def watch(self, role: str, pid: int, *, children_only: bool = False) -> None:
        self.watched.append((role, pid, children_only))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):
                self.sample()

    def sample(self) -> None:
        parents: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    stat = Path(entry.path, "stat").read_text()
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        children: dict[int, list[int]] = defaultdict(list)
        for pid, ppid in parents.items():
            children[ppid].append(pid)
        for role, root, children_only in list(self.watched):
            tree, todo = [], [root]
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(children.get(pid, ()))
            for pid in tree:
                kb, name = _rss_kb(pid)
                if kb is None or name == "bash":
                    continue
                if children_only and pid == _first_real(root, children):
                    continue  # the gunicorn master: its workers are what serve
                key = (role, pid)
                self.peak[key] = max(self.peak.get(key, 0), kb)
                self.names[pid] = name

    def max_mb(self, role: str) -> float:
        values = [kb for (r, _), kb in self.peak.items() if r == role]
        return max(values) / 1024 if values else float("nan")

    def describe(self, role: str) -> str:
        items = sorted(((pid, kb) for (r, pid), kb in self.peak.items() if r == role))
        return ", ".join(
            f"{self.names.get(pid, '?')}[{pid}] {kb / 1024:.0f} MB" for pid, kb in items
        )


def _rss_kb(pid: int) -> tuple[int | None, str]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None, ""
    name, kb = "", None
    for line in status.splitlines():
        if line.startswith("Name:"):
            name = line.split(None, 1)[1].strip() if len(line.split()) > 1 else ""
        elif line.startswith("VmRSS:"):
            kb = int(line.split()[1])
    return kb, name


def _first_real(pid: int, children: dict[int, list[int]]) -> int:
    """The process a `bash -c` line became (bash execs a simple command; else its child)."""
    _, name = _rss_kb(pid)
    while name == "bash" and children.get(pid):
        pid = children[pid][0]
        _, name = _rss_kb(pid)
    return pid


# The run -----------------------------------------------------------------------------------


def worker_names(redis_url: str) -> set[str]:
    import redis
    from rq import Worker

    conn = redis.Redis.from_url(redis_url)
    try:
        return {w.name for w in Worker.all(connection=conn)}
    finally:
        conn.close()


def wait_for_workers(redis_url: str, procs: list[c.Proc], known: set[str], timeout=60) -> None:
    """Until RQ workers not in `known` have registered (and, for a pool, no more come)."""
    deadline = time.monotonic() + timeout
    seen, stable_since = set(), time.monotonic()
    while True:
        now_seen = worker_names(redis_url) - known
        if now_seen != seen:
            seen, stable_since = now_seen, time.monotonic()
        elif seen and time.monotonic() - stable_since > 1.0:
            return
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError("no RQ worker registered")
        time.sleep(0.1)


def warm_web(base: str, proc: c.Proc) -> None:
    """Both gunicorn workers connected to the database and Redis before anything counts."""
    deadline = time.monotonic() + 60
    ok = 0
    while ok < 8:
        if not proc.alive():
            raise RuntimeError(f"web exited early:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"web not answering /healthz:\n{proc.tail()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                ok += 1
                continue
        time.sleep(0.2)


def next_minute(after: float) -> float:
    return (int(after) // 60 + 1) * 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=c.ROOT, help="the tree to measure")
    args = parser.parse_args()
    root = args.root.resolve()
    lines = procfile(root)
    phase_s = c.size(20.0, 3.0)
    turns_n = c.size(3_000, 200)
    waves = c.size(10_000, 300)
    phase_ids_needed = sum(int(r * phase_s) for r in RATES) + int(WAVE_RATE * phase_s)
    texters = turns_n + phase_ids_needed + WARM_ROUNDS * WARM_TEXTS

    with c.backend() as be:
        c.log(f"reply benchmark: {be.describe()}")
        c.log(f"measuring {root} (Procfile: web, worker, cron)")
        procs: list[c.Proc] = []
        sampler = RssSampler()
        try:
            api, api_url = c.start_localtwilio(be, be.tmp)
            procs.append(api)
            port = c.free_port()
            public = f"http://127.0.0.1:{port}"
            env = tree_env(
                be,
                root,
                PORT=str(port),
                PUBLIC_BASE_URL=public,
                TWILIO_ACCOUNT_SID=c.ACCOUNT_SID,
                TWILIO_AUTH_TOKEN=c.AUTH_TOKEN,
                TWILIO_API_BASE_URL=api_url,
                SENDER_MPS="0",
                LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            )
            where, single = inspect_tree(root, env)
            c.log(f"the processes import {where}")
            if root != c.ROOT.resolve():
                migrated = migrate_tree(be, root, lines, env)
                c.log(f"schema from the tree's own `{migrated}`")

            from service.app import build_services

            services = build_services(c.settings_for(be), queue=False)
            began = time.perf_counter()
            _, wave_ids, texter_ids = seed(services, waves, texters)
            c.log(
                f"loaded {waves:,} participants in step 5 and {texters:,} in step 1 with a "
                f"question open in {time.perf_counter() - began:.1f} s"
            )
            engine = services.engine

            web = TreeProc("web", lines["web"], env, be.tmp, root)
            procs.append(web)
            sampler.watch("web", web.popen.pid, children_only=True)
            sampler.start()
            c.wait_for_port(port, web, timeout=60)
            warm_web(public, web)
            texter = Texter(port, public)
            unused = [texter_ids.start]

            def take(n: int) -> range:
                """The next `n` participants who have not texted yet."""
                first = unused[0]
                unused[0] += n
                assert unused[0] <= texter_ids.stop, "more texts than participants"
                return range(first, first + n)

            # 1. One worker process turning stored texts.
            turn_ids = take(turns_n)
            posts = asyncio.run(texter.closed_loop(texter.prepare(turn_ids), STORE_CONNECTIONS))
            bad = [p for p in posts if p.status != 200]
            assert not bad, f"{len(bad)} posts failed while storing: {bad[:3]}\n{web.tail()}"
            c.log(f"stored {turns_n:,} texts through the webhook, no worker running")
            burst_line = " ".join(["python -m jobs.worker --burst", *single])
            burst_env = dict(env, WORKER_PROCESSES="1")
            started = time.time()
            burst = TreeProc("burst", burst_line, burst_env, be.tmp, root)
            procs.append(burst)
            sampler.watch("worker", burst.popen.pid)
            try:
                burst.popen.wait(c.size(900, 120))
            except subprocess.TimeoutExpired:
                c.log("  the burst worker was still running: stopped")
            ran = time.time() - started
            burst.stop()
            turns_ok = wait_answered(engine, turn_ids, 10, "turns")
            c.log(f"  `{burst_line}` ran {ran:.1f} s (exit {burst.popen.returncode})")

            # 2. The Procfile's worker and cron.
            known = worker_names(be.redis_url)
            worker = TreeProc("worker", lines["worker"], env, be.tmp, root)
            cron = TreeProc("cron", lines["cron"], env, be.tmp, root)
            procs += [worker, cron]
            sampler.watch("worker", worker.popen.pid)
            wait_for_workers(be.redis_url, [worker, cron], known)
            cron_ready = time.time() + 5  # its first minute is known once it has started
            c.log(f"worker `{lines['worker']}` and cron `{lines['cron']}` running")
            # Each worker process connects on its first jobs: a few texts, not counted.
            for _ in range(WARM_ROUNDS):
                ids = take(WARM_TEXTS)
                asyncio.run(texter.open_loop(texter.prepare(ids), 10))
                wait_answered(engine, ids, 60, "warm-up")

            phases: list[Phase] = []
            answered_all: list[bool] = []
            wave: Phase | None = None
            wave_at = 0.0
            plan = [f"{r}/s" for r in RATES]
            estimate = phase_s + 4  # a phase, and its replies, in smoke mode
            while plan or wave is None:
                soon = next_minute(max(time.time() + 3, cron_ready))
                # Smoke mode: the wave at the next whole minute when a phase would not fit
                # before it (the phases do not care whether they come before or after).
                if wave is None and (not plan or (c.SMOKE and soon - time.time() < estimate)):
                    wave_at = soon
                    wave, ok = run_wave(engine, texter, take, wave_ids, wave_at, phase_s)
                    answered_all.append(ok)
                    phases.append(wave)
                    continue
                label = plan.pop(0)
                rate = float(label.removesuffix("/s"))
                ids = take(int(rate * phase_s))
                prepared = texter.prepare(ids)
                c.log(f"phase {label}: {len(ids)} texts over {phase_s:.0f} s")
                phase = Phase(label, ids, rate, asyncio.run(texter.open_loop(prepared, rate)))
                answered_all.append(wait_answered(engine, ids, c.size(600, 30), label))
                phases.append(phase)

            wave_done = wait_answered(engine, wave_ids, c.size(900, 60), "wave check-ins")
            sampler.sample()
            sampler.stop()
            for proc in (cron, worker):
                proc.stop()
            creates = creates_by_number(api_url)
            if not (turns_ok and wave_done and all(answered_all)):
                for proc in procs[1:]:
                    c.log(f"--- {proc.name} log, last lines:\n{proc.tail(40)}")
        finally:
            sampler.stop()
            for proc in reversed(procs):
                proc.stop()
        services.engine.dispose()

    # Results.
    turn_times = [at for pid in turn_ids for at in creates.get(c.phone(pid), ())]
    turned = sum(1 for pid in turn_ids if creates.get(c.phone(pid)))
    turns_s = (max(turn_times) - started) if turn_times else float("nan")
    turns_per_s = turned / turns_s if turn_times else float("nan")
    c.log(
        f"turns: one worker turned {turned:,} of {turns_n:,} texts in {turns_s:.1f} s "
        f"(from its start to the last reply at the API): {turns_per_s:.1f} texts/s"
        + ("" if turns_ok else " — NOT ALL ANSWERED")
    )
    for phase in phases:
        phase.settle(creates)
        took = [p.took for p in phase.posts]
        sent = [p.sent for p in phase.posts]
        c.log(
            f"{phase.label:>5} ({len(sent)} posts over {max(sent) - min(sent):4.1f} s): "
            f"reply p50 {phase.ms(50):8.0f} ms, p99 {phase.ms(99):8.0f} ms, "
            f"max {phase.ms(100):8.0f} ms; webhook p50 {c.percentile(took, 50) * 1000:.0f} ms, "
            f"p99 {c.percentile(took, 99) * 1000:.0f} ms"
            + (f"; {phase.missing} never answered" if phase.missing else "")
            + (f"; errors {phase.errors}" if phase.errors else "")
        )
    counts = [len(creates.get(c.phone(pid), ())) for pid in wave_ids]
    wave_sent = sum(1 for k in counts if k)
    wave_twice = sum(1 for k in counts if k > 1)
    last = max((at for pid in wave_ids for at in creates.get(c.phone(pid), ())), default=None)
    wave_last_s = (last - wave_at) if last is not None else float("nan")
    c.log(
        f"wave: {wave_sent:,} of {waves:,} due check-ins reached the API"
        f"{'' if wave_done else ' (gave up waiting)'}, {wave_twice} of them more than once; "
        f"the last {wave_last_s:.1f} s after the due minute"
    )
    webhook_p99 = c.percentile([post.took for p in phases for post in p.posts], 99) * 1000
    missing = sum(p.missing for p in phases)
    errors = sum(sum(p.errors.values()) for p in phases)
    c.log(f"worker processes: {sampler.describe('worker')}")
    c.log(f"gunicorn workers: {sampler.describe('web')}")
    by = {p.label: p for p in phases}
    failures = []
    if wave_sent != waves or wave_twice:
        failures.append(f"{waves - wave_sent} check-ins never sent, {wave_twice} sent twice")
    if missing or errors:
        failures.append(f"{missing} texts never answered, {errors} posts failed")
    if turned != turns_n:
        failures.append(f"{turns_n - turned} stored texts never turned by the burst worker")
    if failures:
        c.log("FAILED: " + "; ".join(failures))
    c.bench_line(
        "reply",
        p50_5_ms=by["5/s"].ms(50),
        p99_5_ms=by["5/s"].ms(99),
        p50_20_ms=by["20/s"].ms(50),
        p99_20_ms=by["20/s"].ms(99),
        p50_50_ms=by["50/s"].ms(50),
        p99_50_ms=by["50/s"].ms(99),
        p50_wave_ms=by["wave"].ms(50),
        p99_wave_ms=by["wave"].ms(99),
        wave_sent=wave_sent,
        wave_due=waves,
        wave_twice=wave_twice,
        wave_last_s=wave_last_s,
        turns_per_s=turns_per_s,
        webhook_p99_ms=webhook_p99,
        worker_rss_mb=sampler.max_mb("worker"),
        web_rss_mb=sampler.max_mb("web"),
        unanswered=missing,
        post_errors=errors,
        db=be.database,
    )
    if failures:
        sys.exit(1)


def run_wave(engine, texter: Texter, take, wave_ids: range, at: float, seconds: float):
    """Every wave participant due at `at` (a whole minute), texts at WAVE_RATE from then."""
    due = datetime.fromtimestamp(at, UTC)
    make_due(engine, wave_ids, due)
    ids = take(int(WAVE_RATE * seconds))
    prepared = texter.prepare(ids)
    c.log(
        f"wave: {len(wave_ids):,} check-ins due at {due:%H:%M:%S} UTC "
        f"(in {at - time.time():.0f} s); {len(ids)} texts at {WAVE_RATE}/s from then"
    )
    posts = asyncio.run(texter.open_loop(prepared, WAVE_RATE, start_at=at))
    ok = wait_answered(engine, ids, c.size(900, 60), "wave texts")
    return Phase("wave", ids, WAVE_RATE, posts), ok


if __name__ == "__main__":
    main()
