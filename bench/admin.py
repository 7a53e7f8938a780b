"""The admin at scale: each page's server time at 100,000 participants and at 1,000.

A practice with 100,000 participants in 20 programs, 3 million check-ins (30 days each, a
commitment asked about in each, three in four answered) and 5 million texts (50 each, and
one person with a long history of 1,500) is bulk-loaded (COPY on PostgreSQL); beside it, in
another schema, the same practice at 1,000 participants. An admin and a facilitator who
runs 6 of the 20 programs (30% of everyone) sign in, and Flask's test client times the
server side of each page a coach opens: Today (the dashboard), the participants list
(default, filtered by step, searched by name, sorted by each sortable column, the last
page), the participant with the long history, a program page, the programs list, the
inbox (where this checkout has one), that participant's export and the first program's
results export (CSV, one row per participant; streamed, so timed to its first bytes as
the download starts, its whole length reported beside it). Each page runs once
to warm up, then `RUNS` times; the result is the p50 of each page at each size and the
worst ratio between them (goal: <= 2, and no page over 300 ms at 100,000). Today is also
timed once cold (no weekly figures kept yet) and the cron job that keeps them is timed;
neither counts in the ratio. A page that does not answer 200 is reported in `errors`.

Sizes: 100,000 and 1,000 on PostgreSQL (BENCH_DATABASE_URL); SQLite gets 10,000 and 1,000
(the output says so); BENCH_SMOKE=1 shrinks both to seconds. While tuning:
BENCH_ADMIN_REUSE=1 loads into schemas that are kept (a later run with it reuses their
data, only migrating them up; BENCH_REDIS_URL is then required), BENCH_ADMIN_PAGES=today,list
picks pages, BENCH_ADMIN_SKIP=today_admin leaves out a page for one role and
BENCH_ADMIN_RUNS=3 sets the runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import _common as c
import sqlalchemy as sa

NOW = datetime(2026, 3, 3, 15, 0, 5, tzinfo=UTC)  # a Tuesday
PROGRAMS = 20
COACH_PROGRAMS = 6  # the scoped facilitator's share: programs 1..6
CHECKIN_DAYS = 30
MESSAGES_EACH = 50
LONG_HISTORY = 1_500  # texts of participant 1
PASSWORD = "bench-admin-password-1"
ADMIN_EMAIL, COACH_EMAIL = "admin@bench.example.org", "coach@bench.example.org"
# Reported, not pages: Today before its kept figures, the job that keeps them, and a
# streamed download's whole length (it grows with the program; its first bytes do not).
NOT_PAGES = ("today_cold_", "trends_job_")


def not_a_page(key: str) -> bool:
    return key.startswith(NOT_PAGES) or "_whole_" in key


TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai",
         "Lena", "Mo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tess")  # fmt: skip
LAST = ("Abara", "Brandt", "Costa", "Duarte", "Eng", "Fischer", "Garcia", "Haddad", "Ito",
        "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist",
        "Rossi", "Silva", "Tanaka", "Ulloa", "Varga", "Weber", "Xu", "Yilmaz",
        "Zamora")  # fmt: skip
STATUSES = ("active",) * 16 + ("paused", "invited", "closed", "opted_out")
TIMEZONES = ("America/New_York", "America/Chicago", "Europe/London", "America/Bogota")


# Data -----------------------------------------------------------------------------------


def name_of(pid: int) -> str:
    return f"{FIRST[pid % len(FIRST)]} {LAST[(pid // len(FIRST)) % len(LAST)]}-{pid}"


def participant_rows(n: int, rng):
    cols = ("id", "program_id", "name", "phone", "timezone", "language", "status", "step",
            "share_with_partner", "next_checkin_at", "streak", "consent_at",
            "last_inbound_at", "created_at")  # fmt: skip
    created = NOW - timedelta(days=CHECKIN_DAYS + 10)

    def rows():
        for pid in range(1, n + 1):
            status = "active" if pid == 1 else STATUSES[pid % len(STATUSES)]
            step = 5 if (pid // 7) % 10 < 7 or pid == 1 else 1 + (pid // 7) % 4
            last = NOW - timedelta(minutes=rng.randrange(1, 60 * 24 * 30))
            yield (pid, 1 + pid % PROGRAMS, name_of(pid), c.phone(pid), TIMEZONES[pid % 4],
                   "en", status, step, False, NOW + timedelta(minutes=rng.randrange(1, 1440)),
                   rng.randrange(0, 12), created, None if pid % 13 == 0 else last,
                   created)  # fmt: skip

    return cols, rows()


def commitment_rows(n: int):
    cols = ("id", "participant_id", "text", "sign", "status", "proposed_by", "agreed_text",
            "agreed_at", "live_at", "created_at", "updated_at")  # fmt: skip
    agreed = NOW - timedelta(days=CHECKIN_DAYS + 5)
    text = "Say so early when a meeting can't happen"

    def rows():
        for pid in range(1, n + 1):
            yield (pid, pid, text, "", "active", "facilitator", text, agreed, agreed, agreed,
                   agreed)  # fmt: skip

    return cols, rows()


def checkin_rows(n: int, rng, answers: list):
    """30 daily check-ins each; the answers of the answered ones go to `answers`."""
    cols = ("id", "participant_id", "kind", "due_at", "status", "sent_at", "answered_at",
            "answer_raw", "commitment_ids", "clarified", "nudges_sent", "created_at")  # fmt: skip
    first = NOW.replace(hour=0, minute=0, second=0) - timedelta(days=CHECKIN_DAYS)

    def rows():
        cid = 0
        for pid in range(1, n + 1):
            ids = json.dumps([pid])
            for day in range(CHECKIN_DAYS):
                cid += 1
                due = first + timedelta(days=day, hours=19 + pid % 4)
                roll = rng.random()
                if day == CHECKIN_DAYS - 1 and roll < 0.3:
                    status, answered, raw = "open", None, None
                elif roll < 0.75:
                    status, answered, raw = "answered", due + timedelta(minutes=4), "Y"
                    result = "kept" if roll < 0.55 else ("partly" if roll < 0.65 else "missed")
                    answers.append((cid, pid, result))
                else:
                    status, answered, raw = "missed", None, None
                yield (cid, pid, "self", due, status, due, answered, raw, ids, False, 0, due)

    return cols, rows()


def message_rows(n: int, rng):
    cols = ("id", "direction", "program_id", "participant_id", "from_number", "to_number",
            "body", "media_urls", "template", "status", "attempts", "sent_at", "created_at",
            "updated_at")  # fmt: skip
    span = CHECKIN_DAYS * 24 * 3600
    bodies_in = ("Y", "yes, kept it", "Partly. The meeting moved and I told them late.", "N")
    body_out = "Evening check-in: did you keep 'Say so early when a meeting can't happen'? Y/N"

    def rows():
        mid = 0
        for pid in range(1, n + 1):
            count = LONG_HISTORY if pid == 1 else MESSAGES_EACH
            program_id = 1 + pid % PROGRAMS
            for k in range(count):
                mid += 1
                at = NOW - timedelta(seconds=span * (count - k) / count + rng.random())
                if k % 2:
                    yield (mid, "in", program_id, pid, c.phone(pid), c.SENDER,
                           bodies_in[k % 4], "[]", None, "received", 0, None, at, at)  # fmt: skip
                else:
                    yield (mid, "out", program_id, pid, c.SENDER, c.phone(pid), body_out,
                           "[]", "checkin", "delivered", 1, at, at, at)  # fmt: skip

    return cols, rows()


def attention_rows(n: int):
    cols = ("id", "program_id", "participant_id", "kind", "detail", "created_at")
    kinds = ("headsup", "missed_run", "disagreement", "undeliverable")

    def rows():
        for k, pid in enumerate(range(7, n + 1, 97), start=1):
            yield (k, 1 + pid % PROGRAMS, pid, kinds[k % 4], "a promise is at risk",
                   NOW - timedelta(hours=k % 200))  # fmt: skip

    return cols, rows()


def load(services, n: int, seed: int) -> float:
    """Everyone, bulk-loaded into this database; returns seconds taken."""
    from service.models import Facilitator, Program, Statement
    from service.program.accounts import create_facilitator

    began = time.perf_counter()
    engine, rng = services.engine, random.Random(seed)
    with services.sessions() as s:
        admin = create_facilitator(s, ADMIN_EMAIL, "Ada Admin", PASSWORD, "admin")
        coach = create_facilitator(s, COACH_EMAIL, "Dana Coach", PASSWORD)
        others = [
            create_facilitator(s, f"coach{k}@bench.example.org", f"Coach {k}", PASSWORD)
            for k in range(3)
        ]
        s.flush()
        for k in range(1, PROGRAMS + 1):
            owner = coach if k <= COACH_PROGRAMS else others[k % 3]
            s.add(
                Program(id=k, name=f"Program {k:02d}", owner_id=owner.id, cadence="daily@19:00",
                        timezone="America/New_York", created_at=NOW - timedelta(days=60))
            )  # fmt: skip
        s.commit()
        assert s.get(Facilitator, admin.id).role == "admin"
    for table, (cols, rows) in (
        ("participant", participant_rows(n, rng)),
        ("commitment", commitment_rows(n)),
    ):
        c.bulk_insert(engine, table, cols, rows)
    answers: list = []
    cols, rows = checkin_rows(n, rng, answers)
    checkins = c.bulk_insert(engine, "checkin", cols, rows)
    answer_rows = ((k, cid, comm, result) for k, (cid, comm, result) in enumerate(answers, 1))
    c.bulk_insert(engine, "checkinanswer", ("id", "checkin_id", "commitment_id", "result"),
                  answer_rows)  # fmt: skip
    del answers
    cols, rows = message_rows(n, rng)
    messages = c.bulk_insert(engine, "message", cols, rows)
    c.bulk_insert(engine, "attentionitem", *attention_rows(n))
    with services.sessions() as s:
        for step, kind in ((1, "what_happened"), (1, "emotions"), (2, "responsibility")):
            s.add(Statement(participant_id=1, step=step, kind=kind, body="It was my part.",
                            created_at=NOW - timedelta(days=40)))  # fmt: skip
        s.commit()
    c.analyze(engine)
    c.log(f"  {n:,} participants, {checkins:,} check-ins, {messages:,} texts")
    return time.perf_counter() - began


# Pages ----------------------------------------------------------------------------------


def pages(n: int, role: str) -> dict[str, tuple[str, str]]:
    """name -> (method, path). The same pages at each size; the last page follows how
    many the role sees (the coach runs COACH_PROGRAMS of the PROGRAMS)."""
    seen = n if role == "admin" else n * COACH_PROGRAMS // PROGRAMS
    last = max(0, (seen - 1) // 50)  # 50 a page (the list's default)
    found = {
        "today": ("GET", "/admin/"),
        "list": ("GET", "/admin/participants/"),
        "list_step": ("GET", "/admin/participants/?flt0_1=4"),
        "list_search": ("GET", "/admin/participants/?search=Dev+Costa"),
        "list_last": ("GET", f"/admin/participants/?page={last}"),
        "participant": ("GET", "/admin/participants/details/?id=1"),
        "program": ("GET", "/admin/programs/details/?id=1"),
        "programs": ("GET", "/admin/programs/"),
        "export": ("POST", "/admin/participants/export/"),
        "results": ("POST", "/admin/programs/results/"),  # program 1's results, as CSV
        "inbox": ("GET", "/admin/inbox/"),  # timed where the app has one (see `exists`)
    }
    # Sortable columns, by their place in the list (name, step, status, streak, last reply).
    for key, index in (("name", 0), ("step", 2), ("status", 3), ("streak", 4), ("reply", 7)):
        found[f"sort_{key}"] = ("GET", f"/admin/participants/?sort={index}&desc=1")
    wanted = [p for p in os.environ.get("BENCH_ADMIN_PAGES", "").split(",") if p]
    return {k: v for k, v in found.items() if not wanted or k in wanted}


def signed_in(app, email: str):
    client = app.test_client()
    page = client.get("/admin/login")
    token = TOKEN.search(page.text).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    answer = client.post("/admin/login", data=data)
    assert answer.status_code == 302, f"sign-in as {email}: {answer.status_code}"
    return client


def csrf_of(client) -> str:
    return TOKEN.search(client.get("/admin/participants/details/?id=1").text).group(1)


def forget_trends(services) -> None:
    """Drop the dashboard's kept weekly figures (as after a Redis flush)."""
    from service.program import trends

    for found in services.redis.scan_iter(f"{trends.PREFIX}*"):
        services.redis.delete(found)


def refresh_trends(services) -> float:
    """The cron job that keeps the dashboard's weekly figures: its ms."""
    from service.program import trends

    began = time.perf_counter()
    trends.refresh(services)
    return (time.perf_counter() - began) * 1000


def exists(app, method: str, path: str) -> bool:
    """Whether the app routes this page (a page this checkout does not have is left out)."""
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    try:
        app.url_map.bind("localhost").match(path.split("?")[0], method=method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


def time_pages(app, n: int, runs: int, shown: dict[str, int]):
    """p50 ms per `page_role`, and the answers that were not 200; `shown` takes how many
    table rows each page holds. Today is also timed once cold (`today_cold_<role>`: no
    kept figures, as before the cron job's first run), then the cron job runs and the p50
    is of Today as coaches meet it."""
    results, errors = {}, {}
    services = app.extensions["realign"]
    for role, email in (("admin", ADMIN_EMAIL), ("coach", COACH_EMAIL)):
        client = signed_in(app, email)
        token = csrf_of(client)
        skip = set(os.environ.get("BENCH_ADMIN_SKIP", "").split(","))
        if "today" in pages(n, role) and f"today_{role}" not in skip:
            forget_trends(services)
            began = time.perf_counter()
            answer = client.get("/admin/")
            results[f"today_cold_{role}"] = (time.perf_counter() - began) * 1000
            c.log(f"    today_cold_{role:<11} once  {results[f'today_cold_{role}']:8.1f} ms")
            results[f"trends_job_{role}"] = refresh_trends(services)
        for page, (method, path) in pages(n, role).items():
            if f"{page}_{role}" in skip or not exists(app, method, path):
                continue
            times, whole, streams = [], [], False
            for run in range(runs + 1):
                began = time.perf_counter()
                if method == "POST":
                    answer = client.post(path, data={"id": "1", "csrf_token": token})
                else:
                    answer = client.get(path)
                # A streamed body (the results export) is timed to its first bytes, as the
                # coach's download starts; the whole download is reported beside it.
                chunks = iter(answer.response)
                body = next((chunk for chunk in chunks if chunk), b"")
                ms = (time.perf_counter() - began) * 1000
                rest = [chunk for chunk in chunks if chunk]
                streamed, body = bool(rest), body + b"".join(rest)
                size = len(body)
                answer.close()
                all_ms = (time.perf_counter() - began) * 1000
                if answer.status_code != 200:
                    errors[f"{page}_{role}"] = str(answer.status_code)
                if run:
                    times.append(ms)
                    whole.append(all_ms)
                    streams = streamed
            key = f"{page}_{role}"
            results[key] = c.median(times)
            c.log(
                f"    {key:<22} p50 {results[key]:8.1f} ms  ({size / 1024:.0f} KB, "
                f"{body.count(b'<tr')} table rows)"
            )
            shown[key] = body.count(b"<tr")  # table rows: what the page holds
            if streams:
                results[f"{page}_whole_{role}"] = c.median(whole)
                c.log(f"    {key + ' (whole)':<22} p50 {c.median(whole):8.1f} ms")
    return results, errors


def make_app(url: str, be):
    from service.app import create_app

    settings = c.settings_for(be, database_url=url)
    app = create_app(settings, clock=lambda: NOW)
    return app


def main() -> None:
    runs = int(os.environ.get("BENCH_ADMIN_RUNS", "0")) or c.size(5, 1)
    reuse = os.environ.get("BENCH_ADMIN_REUSE", "") not in ("", "0")
    with c.backend() if not reuse else _kept_backend() as be:
        large = c.size(100_000, 300) if be.postgres else c.size(10_000, 300)
        small = c.size(1_000, 60)
        c.log(f"admin benchmark: {be.describe()}")
        if not be.postgres:
            c.log(
                f"note: no BENCH_DATABASE_URL (PostgreSQL); on SQLite the large size is {large:,}"
            )
        urls = {}
        for label, n, seed in (("small", small, 1), ("large", large, 2)):
            url = _schema_url(be, f"admin_{label}", reuse)
            urls[label] = url
            app = make_app(url, be)
            services = app.extensions["realign"]
            with services.sessions() as s:
                loaded = s.scalar(sa.text("SELECT count(*) FROM participant"))
            if not (reuse and loaded == n):
                if loaded:
                    raise SystemExit(f"schema admin_{label} holds {loaded} participants, not {n}")
                c.log(f"loading {n:,} participants …")
                c.log(f"  loaded in {load(services, n, seed):.1f} s")
            services.engine.dispose()
        timed, shown = {}, {}
        errors: dict[str, str] = {}
        for label, n in (("small", small), ("large", large)):
            c.log(f"  pages at {n:,} participants:")
            app = make_app(urls[label], be)
            shown[label] = {}
            timed[label], errs = time_pages(app, n, runs, shown[label])
            errors.update({f"{k}@{n}": v for k, v in errs.items()})
            app.extensions["realign"].engine.dispose()

    values: dict[str, object] = {}
    worst_ratio, worst_page, slowest, slowest_page = 0.0, "", 0.0, ""
    # The same ratio over the pages that hold as many rows at both sizes: a search that
    # finds 2 people among 1,000 and a full page of 50 among 100,000 renders 48 more rows,
    # which says nothing about how the page copes with the practice's size.
    like_ratio, like_page, unlike = 0.0, "", []
    for key, large_ms in timed["large"].items():
        # A body that came in one piece at 1,000 was whole at its first bytes.
        small_ms = timed["small"].get(
            key, timed["small"].get(key.replace("_whole", ""), float("nan"))
        )
        values[f"{key}_ms"] = large_ms
        values[f"{key}_1k_ms"] = small_ms
        if not_a_page(key):
            continue  # reported, but not a page as coaches meet it
        ratio = large_ms / small_ms if small_ms else float("nan")
        if ratio > worst_ratio:
            worst_ratio, worst_page = ratio, key
        if large_ms > slowest:
            slowest, slowest_page = large_ms, key
        rows = (shown["small"].get(key), shown["large"].get(key))
        if rows[0] != rows[1]:
            unlike.append(f"{key}:{rows[0]}/{rows[1]}")
        elif ratio > like_ratio:
            like_ratio, like_page = ratio, key
    over = sum(1 for k, v in timed["large"].items() if v > 300 and not not_a_page(k))
    c.log(
        f"worst ratio {worst_ratio:.2f} ({worst_page}; goal <= 2); slowest at {large:,}: "
        f"{slowest:.0f} ms ({slowest_page}); pages over 300 ms: {over}; over pages with "
        f"as many rows at both sizes {like_ratio:.2f} ({like_page}); rows differ: {unlike}"
        + (f"; not 200: {errors}" if errors else "")
    )
    c.bench_line(
        "admin",
        ratio=worst_ratio,
        worst=worst_page,
        ratio_same_rows=like_ratio,
        worst_same_rows=like_page,
        rows_differ=",".join(unlike) or "none",
        max_ms=slowest,
        max_page=slowest_page,
        over_300ms=over,
        errors=",".join(f"{k}:{v}" for k, v in sorted(errors.items())) or "none",
        large=large,
        small=small,
        runs=runs,
        db=be.database,
        **values,
    )


@contextlib.contextmanager
def _kept_backend():
    """The database of an earlier run, as `c.backend()` would give it, without dropping."""
    import tempfile

    from service.config import load_settings

    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url:
        raise SystemExit("BENCH_ADMIN_REUSE needs BENCH_DATABASE_URL")
    url = load_settings(database_url=url).database_url
    if "bench" not in urlsplit(url).path:
        raise SystemExit("BENCH_DATABASE_URL must name a database whose name contains 'bench'")
    redis_url = os.environ.get("BENCH_REDIS_URL", "")
    if not redis_url:
        raise SystemExit("BENCH_ADMIN_REUSE needs BENCH_REDIS_URL")
    with tempfile.TemporaryDirectory(prefix="realign-bench-") as tmp:
        yield c.Backend(url, redis_url, "postgresql", "redis", Path(tmp))


def _schema_url(be, name: str, reuse: bool) -> str:
    """A schema of its own per size (PostgreSQL), or a file (SQLite)."""
    if not reuse:
        return c.extra_database(be, name)
    sep = "&" if "?" in be.database_url else "?"
    url = f"{be.database_url}{sep}options=-csearch_path%3D{name}"
    engine = sa.create_engine(be.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {name}"))
    engine.dispose()
    from service.infra import migrate

    migrate.upgrade(url)
    return url


if __name__ == "__main__":
    main()
