"""The cron's tick only finds what is due and queues it in pages on the bulk lane; the
pages write the check-ins and their texts. Whatever order pages run in, and however often,
each person gets each check-in, nudge and miss once, as one tick in one go would."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from sqlmodel import select

from jobs import tasks
from service.infra.queue import Lane, lane_of
from service.models import AttentionItem, CheckIn, Message, Participant
from service.program import commitments, tick
from tests.support.factories import due_population, make_program
from tests.support.queues import lane_queues

PAGE_TASK = "jobs.tasks.tick_page"
SEND_TASK = "jobs.tasks.send_messages"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"sender_mps": 0})  # the whole wave leaves at once


def queued(redis, lane: Lane = Lane.BULK, func: str | None = None) -> list:
    jobs = Queue(lane.value, connection=redis).jobs
    return [job for job in jobs if func is None or job.func_name == func]


def pages(redis) -> list[tuple[str, list[int]]]:
    return [tuple(job.args) for job in queued(redis, func=PAGE_TASK)]


def rows(services, model, *where) -> list:
    with services.sessions() as session:
        return list(session.exec(select(model).where(*where)))


def test_the_cron_tick_queues_pages_and_writes_nothing_itself(services, redis_conn):
    due_population(services, 2500)
    report = tasks.tick()

    # It found all 2,500 and queued them in pages of 500 on the bulk lane, and wrote nothing.
    assert report["queued"] == {"checkin": 2500, "partner": 0, "nudge": 0, "miss": 0}
    assert (report["pages"], report["held"]) == (5, 0)
    assert rows(services, CheckIn) == [] and rows(services, Message) == []
    found = pages(redis_conn)
    assert [(kind, len(ids)) for kind, ids in found] == [("checkin", 500)] * 5
    people = {p.id for p in rows(services, Participant)}
    assert sorted(i for _, ids in found for i in ids) == sorted(people)
    assert lane_of("tick") == lane_of("tick_page") == Lane.BULK
    assert all(not queue.count for queue in lane_queues(redis_conn)[:-1])  # turns, sends

    # The worker runs the five pages (ahead of the send jobs they queue behind them).
    SimpleWorker(lane_queues(redis_conn), connection=redis_conn).work(burst=True, max_jobs=5)
    assert pages(redis_conn) == []
    checkins = rows(services, CheckIn)
    assert sorted(c.participant_id for c in checkins) == sorted(people)  # each once
    texts = rows(services, Message, Message.template == "checkin")
    assert {m.idempotency_key for m in texts} == {f"checkin:{c.id}" for c in checkins}
    assert {c.message_id for c in checkins} == {m.id for m in texts}
    # Each text queued once, on the bulk lane: a reply never waits behind the wave.
    sends = [i for job in queued(redis_conn, func=SEND_TASK) for i in job.args[0]]
    assert Counter(sends) == Counter(m.id for m in texts)
    assert all(not queue.count for queue in lane_queues(redis_conn)[:-1])


def test_the_next_tick_leaves_waiting_pages_alone_and_finds_a_lost_ones_ids(
    services, redis_conn, clock, run_jobs, gateway
):
    due_population(services, 600)
    first = tasks.tick()
    assert (first["pages"], first["queued"]["checkin"]) == (2, 600)

    # A minute later both pages still wait behind other bulk work: nothing is queued again.
    clock.advance(minutes=1)
    second = tasks.tick()
    assert (second["pages"], second["queued"]["checkin"], second["held"]) == (0, 0, 600)
    assert len(pages(redis_conn)) == 2

    # The first page is lost (a worker died holding it): the next tick finds its ids, and
    # only those.
    lost = queued(redis_conn, func=PAGE_TASK)[0]
    lost_ids = set(lost.args[1])
    lost.delete()
    clock.advance(minutes=1)
    again = tasks.tick()
    assert (again["queued"]["checkin"], again["held"]) == (len(lost_ids), 600 - len(lost_ids))
    assert lost_ids == {i for _, ids in pages(redis_conn)[1:] for i in ids}

    run_jobs()
    checkins = rows(services, CheckIn)
    assert len(checkins) == 600 and len({c.participant_id for c in checkins}) == 600
    texts = rows(services, Message, Message.template == "checkin")
    assert len(texts) == 600 and {m.status for m in texts} == {"console"}  # each sent once
    assert Counter(sent["to"] for sent in gateway.sent).most_common(1)[0][1] == 1
    # Every page ran: the next tick finds nothing due and nothing held.
    clock.advance(minutes=1)
    assert tasks.tick() == {
        "pages": 0,
        "queued": dict.fromkeys(tick.KINDS, 0),
        "held": 0,
        "not_queued": 0,
    }


def test_a_page_run_twice_sends_nothing_twice(services, redis_conn, run_jobs, gateway):
    due_population(services, 20)
    tasks.tick()
    [(kind, ids)] = pages(redis_conn)

    assert tasks.tick_page(kind, ids)["created"] == 20
    assert tasks.tick_page(kind, ids)["created"] == 0  # a retry, or an overlapping page
    assert tasks.tick_page(kind, ids[5:15])["created"] == 0
    # One send job for the 20 texts, queued by the first run only.
    assert [len(job.args[0]) for job in queued(redis_conn, func=SEND_TASK)] == [20]

    run_jobs()  # the queued page too: a third run
    assert len(rows(services, CheckIn)) == 20
    assert len(rows(services, Message, Message.template == "checkin")) == 20
    assert len(gateway.sent) == 20 and len({s["to"] for s in gateway.sent}) == 20


# A person with an old check-in whose nudge or close falls due --------------------------


def _person(services, program, phone, *, cadence=None, due=False, old=None):
    """One participant in step 5 (their check-in due now if `due`), with an open check-in
    from yesterday whose `old` instants ({"next_nudge_at": …, "closes_at": …}) are given."""
    now = services.now()
    with services.sessions() as session:
        person = Participant(
            program_id=program.id, name=phone, phone=phone, timezone="UTC",
            status="active", consent_at=now - timedelta(days=3), step=4,
            created_at=now - timedelta(days=3), current_cadence=cadence,
        )  # fmt: skip
        session.add(person)
        session.flush()
        [commitment] = commitments.add_commitment(session, person, "Call ahead", now=now)
        commitments.agree(session, person, now=now)
        person.step = 5
        person.next_checkin_at = now - timedelta(seconds=30) if due else now + timedelta(hours=3)
        checkin = None
        if old is not None:
            yesterday = now - timedelta(days=1)
            checkin = CheckIn(
                participant_id=person.id, due_at=yesterday, sent_at=yesterday,
                commitment_ids=[commitment.id], created_at=yesterday, **old,
            )  # fmt: skip
            session.add(checkin)
        session.commit()
        return person.id, (checkin.id if checkin else None)


def _program(services):
    return make_program(
        services,
        timezone="UTC",
        quiet_start="00:00",
        quiet_end="23:59",
        cadence="daily@15:00",
        options={"adaptive_cadence": True, "ladder_step": 2, "max_nudges": 2},
    )


def _run_pages(redis_conn, order: str) -> None:
    """The queued pages, in the order asked (then whatever they queued)."""
    found = pages(redis_conn)
    for job in queued(redis_conn, func=PAGE_TASK):
        job.delete()
    if order == "misses first":
        found.sort(key=lambda page: page[0] != "miss")
    for kind, ids in found:
        tasks.tick_page(kind, ids)


@pytest.mark.parametrize("order", ["one tick", "as queued", "misses first"])
def test_a_miss_and_a_new_checkin_for_one_person_come_in_one_order(
    services, redis_conn, clock, order
):
    """Ana was on the ladder's every-2-days rung; yesterday's check-in closes unanswered
    just as today's falls due. She gets today's check-in, and the miss brings her back to
    daily (tomorrow), whichever page a worker takes first."""
    program = _program(services)
    now = clock()
    ana, old = _person(
        services, program, "+12015550123", cadence="every:2@15:00", due=True,
        old={"closes_at": now - timedelta(minutes=1), "next_nudge_at": now - timedelta(hours=1)},
    )  # fmt: skip
    if order == "one tick":
        tick.tick_until_done(services)
    else:
        report = tasks.tick()
        assert [(kind, len(ids)) for kind, ids in pages(redis_conn)] == [
            ("checkin", 1), ("nudge", 1), ("miss", 1),
        ]  # fmt: skip
        assert report["pages"] == 3
        _run_pages(redis_conn, order)

    checkins = {c.id: c for c in rows(services, CheckIn, CheckIn.participant_id == ana)}
    assert len(checkins) == 2
    assert (checkins[old].status, checkins[old].nudges_sent) == ("missed", 1)
    [today] = [c for c in checkins.values() if c.id != old]
    assert (today.status, today.due_at) == ("open", now - timedelta(seconds=30))
    [person] = rows(services, Participant, Participant.id == ana)
    assert person.current_cadence == "daily@15:00"
    assert person.next_checkin_at == now.replace(hour=15, minute=0) + timedelta(days=1)
    keys = Counter(m.idempotency_key for m in rows(services, Message))
    assert keys == {f"checkin:{today.id}": 1, f"nudge:{old}:1": 1}


def test_nudge_and_miss_pages_run_twice_do_it_once(services, redis_conn, clock, run_jobs):
    program = _program(services)
    now = clock()
    # Ben's check-in is due a nudge; Cy's closes unanswered, his third miss in a row.
    ben, ben_old = _person(
        services, program, "+12015550124", old={"next_nudge_at": now - timedelta(minutes=5),
                                                  "closes_at": now + timedelta(hours=5)},
    )  # fmt: skip
    cy, cy_old = _person(
        services, program, "+12015550125", old={"closes_at": now - timedelta(minutes=5)}
    )
    _missed_twice_before(services, [cy], now)

    tasks.tick()
    found = pages(redis_conn)
    assert found == [("nudge", [ben_old]), ("miss", [cy_old])]
    for kind, ids in found * 2:
        tasks.tick_page(kind, ids)
    run_jobs()  # the queued pages: a third run of each

    [ben_checkin] = rows(services, CheckIn, CheckIn.id == ben_old)
    assert ben_checkin.nudges_sent == 1 and ben_checkin.status == "open"
    nudges = rows(services, Message, Message.template == "checkin_nudge")
    assert [(m.participant_id, m.idempotency_key) for m in nudges] == [(ben, f"nudge:{ben_old}:1")]
    [cy_checkin] = rows(services, CheckIn, CheckIn.id == cy_old)
    assert cy_checkin.status == "missed" and cy_checkin.closes_at is None
    flags = rows(services, AttentionItem, AttentionItem.participant_id == cy)
    assert [f.kind for f in flags] == ["missed_run"]


def _missed_twice_before(services, participant_ids, now) -> None:
    """Their check-ins of two and three days ago were missed (a third makes a run)."""
    with services.sessions() as session:
        for pid in participant_ids:
            for days in (2, 3):
                earlier = now - timedelta(days=days)
                session.add(
                    CheckIn(participant_id=pid, due_at=earlier, status="missed", created_at=earlier)
                )
        session.commit()


@pytest.mark.parametrize("order", ["as queued", "misses first"])
def test_two_workers_running_one_page_at_once_do_it_once(services, redis_conn, clock, db, order):
    """Two pool workers take copies of the same page at the same moment (a page queued
    again while the first copy ran, say): each check-in, nudge and miss happens once."""
    if db.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    program = _program(services)
    now = clock()
    people = []
    for i in range(40):
        people.append(
            _person(
                services,
                program,
                f"+120155501{i:02d}",
                cadence="every:2@15:00",
                due=True,
                old={
                    "closes_at": now - timedelta(minutes=1),
                    "next_nudge_at": now - timedelta(hours=1),
                },
            )
        )
    _missed_twice_before(services, [pid for pid, _ in people], now)
    tasks.tick()
    found = pages(redis_conn)
    assert [kind for kind, _ in found] == ["checkin", "nudge", "miss"]

    if order == "misses first":
        found.sort(key=lambda page: page[0] != "miss")

    step = threading.Barrier(2)
    done: list[tuple[str, dict]] = []

    def worker():
        for kind, ids in found:
            step.wait(30)  # both workers start the same page together
            done.append((kind, tasks.tick_page(kind, ids)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(done) == 6

    assert sum(result["created"] for _, result in done) == 40
    assert sum(result["nudged"] for _, result in done) == 40
    assert sum(result["missed"] for _, result in done) == 40
    keys = Counter(m.idempotency_key for m in rows(services, Message))
    assert len(keys) == 80 and set(keys.values()) == {1}  # 40 check-ins, 40 nudges
    flags = Counter(f.participant_id for f in rows(services, AttentionItem))
    assert flags == dict.fromkeys((pid for pid, _ in people), 1)
    for person in rows(services, Participant):
        assert person.current_cadence == "daily@15:00"
        assert person.next_checkin_at == now.replace(hour=15, minute=0) + timedelta(days=1)
    today = rows(services, CheckIn, CheckIn.status == "open")
    assert sorted(c.participant_id for c in today) == sorted(pid for pid, _ in people)
