"""Two cron processes (failover) enqueue every recurring job: the work is done once a slot.

Thirty simulated minutes on the test clock, with two check-ins falling due each minute.
Cron A queues each recurring job when it is due; cron B, started ten seconds later, queues
the same jobs ten seconds after A (as two `python -m jobs.cron` would). Every job runs
as an RQ job in this process: the second of each pair finds its slot taken and skips.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import redis
from rq import Queue
from rq.job import Job
from sqlmodel import select

from service.infra.queue import Lane
from service.infra.ratelimit import SenderRateLimit
from service.infra.slots import slot_key, take_slot
from service.models import CheckIn, Message, Participant
from tests.support.factories import due_population

MINUTES = 30
PER_MINUTE = 2
# jobs/schedule.py: what each job's slot is, and when a cron queues it (seconds past the hour).
SLOTS = {"tick": 60, "sweep": 30, "sweep_voice": 30, "daily_digests": 3600}


def _due(task: str, at) -> bool:
    """Whether a cron queues `task` at `at` (a whole 30 seconds)."""
    if task in ("sweep", "sweep_voice"):
        return True  # every 30 s
    if task == "tick":
        return at.second == 0  # "* * * * *"
    return (at.minute, at.second) == (5, 0)  # daily_digests: "5 * * * *"


def _skipped(result) -> bool:
    return isinstance(result, dict) and set(result) == {"skipped"}


def _pages_run(redis_conn) -> list[dict]:
    """What each tick page the worker ran did."""
    bulk = Queue(Lane.BULK.value, connection=redis_conn)
    jobs = Job.fetch_many(bulk.finished_job_registry.get_job_ids(), connection=redis_conn)
    return [job.return_value() for job in jobs if job.func_name == "jobs.tasks.tick_page"]


def test_two_crons_do_each_slots_work_once(app, services, clock, gateway, run_jobs, redis_conn):
    start = clock()  # 15:00:00 UTC
    due_population(services, MINUTES * PER_MINUTE)
    planned = {}
    with services.sessions() as session:
        people = session.exec(select(Participant).order_by(Participant.id)).all()
        for i, person in enumerate(people):
            person.next_checkin_at = start + timedelta(minutes=i % MINUTES)
            planned[person.id] = person.next_checkin_at
            session.add(person)
        session.commit()

    # The numbers' send caps on the simulated clock too (real seconds fly by here).
    services.rate_limit = SenderRateLimit(
        redis_conn, services.settings.sender_mps, clock=lambda: clock().timestamp()
    )
    results: dict[str, list] = {"a": [], "b": []}
    ids = itertools.count()
    for _ in range(MINUTES * 2):  # 30-second steps
        due = [task for task in SLOTS if _due(task, clock())]
        for cron in ("a", "b"):
            queued = []
            for task in due:
                job_id = f"{cron}-{task}-{next(ids)}"
                assert services.dispatcher.enqueue(task, job_id=job_id)
                queued.append((task, slot_key(task, SLOTS[task], clock()), job_id))
            run_jobs()
            for task, key, job_id in queued:
                result = Job.fetch(job_id, connection=redis_conn).return_value()
                results[cron].append((task, key, result))
            clock.advance(seconds=10 if cron == "a" else 20)
    assert clock() == start + timedelta(minutes=MINUTES)

    # A did every slot's work; B, in the same slots, skipped every time.
    assert [r[:2] for r in results["a"]] == [r[:2] for r in results["b"]]
    assert not any(_skipped(result) for _, _, result in results["a"])
    assert all(_skipped(result) for _, _, result in results["b"])
    runs = Counter(task for task, _, _ in results["a"])
    assert runs == {"tick": MINUTES, "sweep": 2 * MINUTES, "sweep_voice": 2 * MINUTES,
                    "daily_digests": 1}  # fmt: skip
    assert len({key for _, key, _ in results["a"]}) == len(results["a"])  # one run a slot
    # Each minute's tick queued that minute's check-ins once, in pages; the pages the
    # worker ran created every one of them.
    ticks = [result for task, _, result in results["a"] if task == "tick"]
    assert sum(result["queued"]["checkin"] for result in ticks) == len(planned)
    assert sum(page["created"] for page in _pages_run(redis_conn)) == len(planned)

    with services.sessions() as session:
        checkins = session.exec(select(CheckIn)).all()
        out = session.exec(select(Message).where(Message.direction == "out")).all()
    # Every due check-in created exactly once, at its due minute.
    assert Counter((c.participant_id, c.kind, c.due_at) for c in checkins).most_common(1)[0][1] == 1
    assert sorted((c.participant_id, c.due_at) for c in checkins) == sorted(planned.items())
    # One text per check-in, sent once.
    by_id = {m.id: m for m in out}
    assert len({c.message_id for c in checkins}) == len(checkins)
    for checkin in checkins:
        message = by_id[checkin.message_id]
        assert message.idempotency_key == f"checkin:{checkin.id}"
        assert message.status == "console" and message.participant_id == checkin.participant_id
    assert Counter(m.idempotency_key for m in out).most_common(1)[0][1] == 1
    sent = Counter((s["to"], s["body"]) for s in gateway.sent)
    assert sent.most_common(1)[0][1] == 1
    assert len(gateway.sent) == len([m for m in out if m.status == "console"])
    assert len(gateway.sent) >= len(checkins)


def test_a_direct_call_always_runs(app, services, redis_conn):
    """Outside an RQ job (a test, a shell), a task does its work whatever the slot says."""
    from jobs import tasks

    assert take_slot(redis_conn, "sweep", 30, services.now())  # a cron's job took the slot
    assert set(tasks.sweep()) == {"outbox", "inbound", "leftovers", "webhooks"}
    assert set(tasks.sweep()) == {"outbox", "inbound", "leftovers", "webhooks"}


def test_the_slot_lock(redis_conn, clock):
    now = clock().replace(second=10)  # 15:00:10
    assert take_slot(redis_conn, "tick", 60, now)
    assert not take_slot(redis_conn, "tick", 60, now)  # the same slot twice: refused
    assert not take_slot(redis_conn, "tick", 60, now + timedelta(seconds=49))  # 15:00:59
    assert take_slot(redis_conn, "tick", 60, now + timedelta(seconds=50))  # 15:01: the next
    assert take_slot(redis_conn, "sweep", 60, now)  # each job has its own slots
    assert take_slot(redis_conn, "sweep", 30, now + timedelta(seconds=20))  # 15:00:30
    assert not take_slot(redis_conn, "sweep", 30, now + timedelta(seconds=49))

    key = slot_key("tick", 60, now)
    assert key == f"realign:slot:tick:{int(now.replace(second=0).timestamp())}"
    assert 60 < redis_conn.ttl(key) <= 120  # it outlives its slot, then expires

    # Redis down: the slot is taken (fail open; every recurring task is idempotent).
    down = redis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    try:
        assert take_slot(down, "tick", 60, now)
        assert take_slot(down, "tick", 60, now)
    finally:
        down.close()
