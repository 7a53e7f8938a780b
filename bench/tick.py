"""The check-in tick: finding 1,000 due among 10,000 enrolled, then among 1,000,000.

`tick.tick` should cost what is due, not who is enrolled (an indexed query on the stored
next-due instant). Every participant is in step 5 with two active commitments; 1,000 of
them are due now, the rest later today. The real tick runs (the due query, the check-ins,
their outbox rows, one commit); between runs its work is deleted and the 1,000 made due
again (not timed). The same 1,000 are then timed again after 990,000 more people are
bulk-loaded (COPY). Result: median of several runs at each size, and their ratio.

The 1,000,000 case needs PostgreSQL (BENCH_DATABASE_URL); on SQLite the large size is
200,000 and the output says so. Target: ratio <= 2.

Then the cron's own job: with all 10,000 of the smaller population due at once, the time
the `tick` job takes to find them (ids only), leave out those a waiting page holds and
queue their pages on the bulk lane (`plan_ms`, median of several runs, the queue emptied
between them; target about a second), and, once, the time the pages it queued take when
run one after another in this process (`pages_ms`: the work the workers now share).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import _common as c
import sqlalchemy as sa

TIMEZONES = ("America/New_York", "America/Chicago", "America/Bogota", "Europe/London")
NOW = datetime(2026, 3, 3, 15, 0, 5, tzinfo=UTC)  # a Tuesday: 10:00 in New York
DUE_AT = NOW.replace(second=0)


def load(engine, program_id: int, enrolled: int, due_ids: set[int], rng) -> float:
    # The due ones now; the rest later today or tomorrow, on whole minutes.
    def next_at(pid: int) -> datetime:
        return DUE_AT if pid in due_ids else DUE_AT + timedelta(minutes=rng.randrange(1, 1440))

    return c.load_step5(
        engine, program_id, range(1, enrolled + 1), next_at, timezones=TIMEZONES, now=NOW
    )


def reset(engine, due_ids: list[int]) -> None:
    """Undo one tick: its check-ins and texts go, the same people are due again."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM checkin"))
        conn.execute(sa.text("DELETE FROM message"))
        conn.execute(
            sa.text("UPDATE participant SET next_checkin_at = :due WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"due": _bind_time(engine, DUE_AT), "ids": due_ids},
        )
    if engine.dialect.name == "postgresql":  # what autovacuum would do between ticks
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE participant, checkin, message"))


def _bind_time(engine, value: datetime):
    if engine.dialect.name == "sqlite":
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


class Population:
    """One database holding `enrolled` participants, `due` of them due now."""

    def __init__(self, label: str, url: str, settings, enrolled: int, due: int, seed: int):
        from service.app import build_services

        self.label, self.enrolled = label, enrolled
        self.services = build_services(
            settings.model_copy(update={"database_url": url}), clock=lambda: NOW, queue=False
        )
        program = c.make_program(
            self.services, timezone="America/New_York", cadence="daily@10:00", options={}
        )
        rng = random.Random(seed)
        # Spread over the whole table, as real due times are: random pages, not a run.
        self.due_ids = sorted(rng.sample(range(1, enrolled + 1), due))
        self.load_s = load(self.services.engine, program.id, enrolled, set(self.due_ids), rng)
        self.ticks: list[float] = []
        self.queries: list[float] = []

    def run(self, counted: bool) -> None:
        """One timed due query and one timed tick, each after undoing the last tick."""
        from sqlmodel import select

        from service.models import Participant
        from service.program import tick

        due = len(self.due_ids)
        reset(self.services.engine, self.due_ids)
        with self.services.sessions() as session:
            began = time.perf_counter()
            found = session.exec(
                select(Participant)
                .where(Participant.next_checkin_at <= NOW)
                .order_by(Participant.next_checkin_at)
                .limit(due)
            ).all()
            query_ms = (time.perf_counter() - began) * 1000
        assert len(found) == due, f"expected {due} due, found {len(found)}"
        began = time.perf_counter()
        result = tick.tick(self.services, limit=due)
        tick_ms = (time.perf_counter() - began) * 1000
        assert result.created == due, f"tick created {result.created} check-ins, not {due}"
        assert sum(m is not None for m in result.messages) == due
        if counted:
            self.ticks.append(tick_ms)
            self.queries.append(query_ms)
        c.log(
            f"  {self.label:>9} enrolled: tick {tick_ms:7.1f} ms, due query {query_ms:6.2f} ms"
            + ("" if counted else " (warm-up, not counted)")
        )


def explain(engine) -> str:
    if engine.dialect.name != "postgresql":
        return ""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "EXPLAIN SELECT * FROM participant WHERE next_checkin_at <= :now "
                "ORDER BY next_checkin_at LIMIT 1000"
            ),
            {"now": NOW},
        ).all()
    return "\n".join("    " + r[0] for r in rows)


def cron_tick(url: str, settings, due_ids: list[int], reps: int) -> dict:
    """The cron's tick with every one of `due_ids` due: find and queue (timed `reps`
    times, Redis emptied between runs), then its pages run here once (timed)."""
    from service.app import build_services
    from service.program import tick

    services = build_services(settings.model_copy(update={"database_url": url}), clock=lambda: NOW)
    engine = services.engine
    reset(engine, due_ids)
    times, report = [], {}
    for rep in range(reps + 1):
        services.redis.flushdb()  # no page queued, nothing held
        began = time.perf_counter()
        report = tick.queue_due(services)
        plan_ms = (time.perf_counter() - began) * 1000
        queued = report["queued"]["checkin"]
        assert queued == len(due_ids), f"the tick queued {queued} of {len(due_ids)} due"
        if rep > 0:
            times.append(plan_ms)
        c.log(
            f"  tick job, {len(due_ids):,} due: found and queued {report['pages']} pages "
            f"in {plan_ms:7.1f} ms" + ("" if rep > 0 else " (warm-up, not counted)")
        )
    from rq import Queue

    from service.infra.queue import Lane

    bulk = Queue(Lane.BULK.value, connection=services.redis)
    jobs = [job for job in bulk.jobs if job.func_name == f"jobs.tasks.{tick.PAGE_TASK}"]
    began = time.perf_counter()
    created = sum(tick.run_page(services, *job.args)["created"] for job in jobs)
    pages_ms = (time.perf_counter() - began) * 1000
    assert created == len(due_ids), f"the pages created {created} check-ins, not {len(due_ids)}"
    c.log(f"  its {len(jobs)} pages, run one after another here: {pages_ms:.0f} ms")
    services.redis.flushdb()
    engine.dispose()
    return {"plan_ms": c.median(times), "pages_ms": pages_ms, "pages": report["pages"]}


def main() -> None:
    due = c.size(1_000, 50)
    small = c.size(10_000, 500)
    reps = c.size(7, 2)
    with c.backend() as be:
        large = c.size(1_000_000, 5_000) if be.postgres else c.size(200_000, 5_000)
        c.log(f"tick benchmark: {be.describe()}")
        if not be.postgres:
            c.log(
                f"note: no BENCH_DATABASE_URL (PostgreSQL); on SQLite the large size is "
                f"{large:,}, not 1,000,000"
            )
        settings = c.settings_for(be)
        populations = []
        for label, url, enrolled, seed in (
            (f"{small:,}", be.database_url, small, 7),
            (f"{large:,}", c.extra_database(be, "tick_large"), large, 8),
        ):
            pop = Population(label, url, settings, enrolled, due, seed)
            c.log(f"loaded {enrolled:,} participants ({due:,} due) in {pop.load_s:.1f} s")
            populations.append(pop)
        plan = explain(populations[1].services.engine)
        if plan:
            c.log(f"due query plan among {large:,}:\n{plan}")
        # Interleaved, so a busy moment on the machine hits both sizes alike.
        for rep in range(reps + 1):
            for pop in populations:
                pop.run(counted=rep > 0)
        for pop in populations:
            pop.services.engine.dispose()
        # The cron's job, with everyone in the smaller population due at once.
        cron = cron_tick(be.database_url, settings, list(range(1, small + 1)), reps)

    small_pop, large_pop = populations
    t10k, t1m = c.median(small_pop.ticks), c.median(large_pop.ticks)
    c.log(
        f"tick, {due:,} due: {t10k:.1f} ms among {small:,}, {t1m:.1f} ms among {large:,} "
        f"(median of {reps}); ratio {t1m / t10k:.2f} (target <= 2)"
    )
    c.log(
        f"the tick job, {small:,} due: {cron['plan_ms']:.1f} ms to find them and queue "
        f"{cron['pages']} pages (median of {reps}); the pages' work: {cron['pages_ms']:.0f} ms"
    )
    c.bench_line(
        "tick",
        ratio=t1m / t10k,
        t10k_ms=t10k,
        t1m_ms=t1m,
        plan_ms=cron["plan_ms"],
        plan_due=small,
        plan_pages=cron["pages"],
        pages_ms=cron["pages_ms"],
        q10k_ms=c.median(small_pop.queries),
        q1m_ms=c.median(large_pop.queries),
        due=due,
        small=small,
        large=large,
        runs=reps,
        load_s=large_pop.load_s,
        db=be.database,
    )


if __name__ == "__main__":
    main()
