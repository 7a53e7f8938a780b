"""Sending the outbox through the real twilio client to the local Twilio API.

Each test drives `delivery.deliver` / the `send_messages` job / the sweeper the way the
worker and the cron process do, injects a fault into the local API, and checks what an
operator or a participant would notice: what the API received (exactly once), what the
row says, what happened to the participant and what the facilitator is told.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from service.core import delivery_rules
from service.infra.ratelimit import SenderRateLimit
from service.infra.twilio_gateway import TwilioGateway
from service.messaging import delivery, outbox, statuses
from service.models import AttentionItem, Message, Participant
from tests.support.factories import (
    ANA,
    BEN,
    PROGRAM_NUMBER,
    get,
    make_participant,
    make_program,
    outbound,
)
from tests.support.queues import lane_queues, queued_count, release_due
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, local_gateway, with_local_twilio

TIMEOUT = 1.0  # the gateway's read timeout; hangs below outlast it
STATUS_CALLBACK = "https://realign.example.org/twilio/sms/status"


@pytest.fixture
def settings(settings, local_twilio):
    """Twilio credentials configured: not console mode, so sends ask for status callbacks."""
    return with_local_twilio(settings, local_twilio, twilio_timeout=TIMEOUT)


@pytest.fixture
def gateway(local_twilio):
    return local_gateway(local_twilio, timeout=TIMEOUT)


@pytest.fixture
def program(services):
    return make_program(services)


def swept(result: dict) -> tuple[int, int]:
    """What a sweep found: (due pending rows, stale claims)."""
    return result["due"], result["stale"]


@pytest.fixture
def ana(services, program):
    """Ana is enrolled: her invitation is a pending outbox row and its send job is queued."""
    return make_participant(services, program)


def invitation(services, participant_id) -> Message:
    [message] = [m for m in outbound(services, participant_id) if m.template == "invite"]
    return message


def queue_note(services, participant_id, key, body="A short note from Dana.") -> Message | None:
    """Queue one more text for a participant (not handed to the queue: the sweeper finds it)."""
    with services.sessions() as session:
        participant = session.get(Participant, participant_id)
        row = outbox.compose_text(
            session,
            participant,
            "ack_statement",
            key=key,
            body=body,
            now=services.now(),
            reply=True,
        )
        message = None if row is None else outbox.insert_once(session, row)
        session.commit()
        return message


def creates(local_twilio) -> int:
    """How many message creates the API has answered or is answering: accepted + rejected.

    (Both are noted when the API decides, before any injected hang after recording.)
    """
    return len(local_twilio.messages()) + len(local_twilio.rejected())


def attention(services, participant_id) -> list[AttentionItem]:
    with services.sessions() as session:
        return list(
            session.exec(
                select(AttentionItem).where(AttentionItem.participant_id == participant_id)
            )
        )


def wait_until(condition, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the local Twilio API")
        time.sleep(0.02)


# Success ------------------------------------------------------------------------------


def test_a_send_records_sid_and_status_and_a_second_deliver_sends_nothing(
    services, ana, run_jobs, local_twilio, clock
):
    assert run_jobs() == 1  # the send_messages job enrolment queued

    [accepted] = local_twilio.messages()
    message = invitation(services, ana.id)
    assert message.twilio_sid == accepted["sid"]
    assert message.status == "queued"  # what the create answered; callbacks move it on
    assert message.sent_at == clock() and message.attempts == 1
    assert (accepted["to"], accepted["from"], accepted["body"]) == (
        ANA,
        PROGRAM_NUMBER,
        message.body,
    )
    assert accepted["status_callback"] == STATUS_CALLBACK

    # The same row again: directly, as a redelivered job, and through the sweeper.
    assert delivery.deliver(services, message.id) == "skipped"
    services.dispatcher.enqueue("send_messages", [message.id])
    assert run_jobs() == 1
    assert swept(delivery.sweep(services)) == (0, 0)
    clock.advance(hours=1)
    delivery.sweep(services)
    run_jobs()

    assert creates(local_twilio) == 1
    assert len(local_twilio.messages()) == 1
    assert get(services, Message, message.id).twilio_sid == accepted["sid"]


def test_a_batch_job_sends_each_row_once(services, program, run_jobs, local_twilio):
    people = [
        make_participant(services, program, name=f"P{i}", phone=f"+1201555013{i}") for i in range(8)
    ]
    ids = [invitation(services, p.id).id for p in people]
    services.dispatcher.enqueue("send_messages", ids)  # the same rows once more, as one batch
    run_jobs()

    sent = local_twilio.messages()
    assert sorted(m["to"] for m in sent) == sorted(p.phone for p in people)
    rows = [get(services, Message, i) for i in ids]
    assert sorted(r.twilio_sid for r in rows) == sorted(m["sid"] for m in sent)
    assert creates(local_twilio) == len(people)


def test_racing_workers_send_a_row_once(services, ana, local_twilio):
    """The same row handed to many threads at once (a retried job beside the original)."""
    message = invitation(services, ana.id)
    outcomes = delivery.deliver_many(services, [message.id] * 8, concurrency=8)
    assert outcomes == {"queued": 1, "skipped": 7}
    [accepted] = local_twilio.messages()
    assert get(services, Message, message.id).twilio_sid == accepted["sid"]


# Transient errors: back off, then the sweeper sends ---------------------------------------


@pytest.mark.parametrize(("code", "stored"), [(429, 20429), (20429, 20429), (500, 20500)])
def test_transient_error_backs_off_and_its_retry_sends_once(
    services, ana, run_jobs, local_twilio, clock, code, stored
):
    local_twilio.fail(code, to=ANA, times=1)
    run_jobs()

    message = invitation(services, ana.id)
    assert message.status == "pending" and message.twilio_sid is None
    assert message.error_code == stored and message.attempts == 1
    first_gap = message.send_after - clock()
    assert first_gap == delivery_rules.retry_gap(1, message.id)
    assert timedelta(seconds=8) <= first_gap <= timedelta(seconds=12)  # 10 s, jittered

    # Not due yet: the sweeper leaves it alone, and its retry job waits.
    clock.advance(seconds=5)
    assert delivery.sweep(services)["due"] == 0
    assert release_due(services.redis, clock()) == 0
    run_jobs()
    assert local_twilio.messages() == []

    # Fails again once it is due: the next gap is longer.
    local_twilio.fail(code, to=ANA, times=1)
    clock.set(message.send_after + timedelta(seconds=1))
    # Due: its retry job is what sends it; the sweeper, seeing that job hold it, does not.
    found = delivery.sweep(services)
    assert (found["due"], found["held"]) == (0, 1)
    assert release_due(services.redis, clock()) == 1
    run_jobs()
    message = invitation(services, ana.id)
    assert message.status == "pending" and message.attempts == 2
    second_gap = message.send_after - clock()
    assert second_gap == delivery_rules.retry_gap(2, message.id) > first_gap

    # The fault has cleared; once the clock passes send_after the retry job sends it.
    clock.set(message.send_after - timedelta(seconds=1))
    assert release_due(services.redis, clock()) == 0
    clock.advance(seconds=2)
    assert release_due(services.redis, clock()) == 1
    run_jobs()

    [accepted] = local_twilio.messages()
    message = invitation(services, ana.id)
    assert message.status == "queued" and message.twilio_sid == accepted["sid"]
    assert message.attempts == 3
    assert message.error_code is None  # a delivered text does not carry an old retry's error
    assert len(local_twilio.rejected()) == 2 and creates(local_twilio) == 3
    # A transient error says nothing about the person.
    assert get(services, Participant, ana.id).status == "invited"
    assert attention(services, ana.id) == []

    clock.advance(hours=1)
    delivery.sweep(services)
    run_jobs()
    assert len(local_twilio.messages()) == 1


def test_retries_through_the_whole_window_then_gives_up_and_says_so(
    services, ana, run_jobs, local_twilio, clock
):
    services.settings = services.settings.model_copy(update={"send_retry_hours": 1.0})
    local_twilio.fail(500, to=ANA)  # until cleared
    run_jobs()
    started, gaps = clock(), []
    for _ in range(40):
        message = invitation(services, ana.id)
        if message.status != "pending":
            break
        gaps.append((message.send_after - clock()).total_seconds())
        clock.set(message.send_after + timedelta(seconds=1))
        release_due(services.redis, clock())  # its retry job
        run_jobs()

    message = invitation(services, ana.id)
    assert message.status == "failed" and message.error_code == 20500
    assert clock() - started >= timedelta(hours=1)  # it kept trying for the whole window
    assert gaps == sorted(gaps[:5]) + gaps[5:]  # growing at first,
    assert max(gaps) <= 15 * 60 * 1.2  # then capped (15 minutes, jittered)
    assert creates(local_twilio) == message.attempts == len(gaps) + 1
    # The facilitator is told what could not be sent, and why.
    [item] = attention(services, ana.id)
    assert item.kind == "send_failed" and "Twilio was unavailable" in item.detail
    assert get(services, Participant, ana.id).status == "invited"  # not about the person

    # Failed is final: nothing tries again, even once the fault clears.
    local_twilio.clear_faults()
    clock.advance(hours=2)
    assert swept(delivery.sweep(services)) == (0, 0)
    run_jobs()
    assert local_twilio.messages() == []


# Timeouts: an unknown outcome is reconciled, never blindly resent --------------------------


@pytest.mark.parametrize("after_record", [True, False], ids=["hang-after-record", "slow-record"])
def test_timeout_after_twilio_took_the_message_is_reconciled_not_resent(
    services, ana, run_jobs, local_twilio, clock, after_record
):
    # after_record: Twilio stores the message, then the answer never comes back in time.
    # Otherwise: Twilio is slow to take it, stores it after our timeout fired.
    local_twilio.hang(TIMEOUT * 2, to=ANA, after_record=after_record, times=1)
    run_jobs()

    message = invitation(services, ana.id)
    assert message.status == "claimed" and message.twilio_sid is None  # outcome unknown
    wait_until(lambda: creates(local_twilio) == 1)  # the API has taken it
    [accepted] = local_twilio.messages()

    # A fresh claim is not second-guessed: a live worker may still be waiting on it.
    assert swept(delivery.sweep(services)) == (0, 0)
    run_jobs()
    assert invitation(services, ana.id).status == "claimed"

    clock.advance(seconds=services.settings.claim_stale_seconds + 1)
    assert swept(delivery.sweep(services)) == (0, 1)
    message = invitation(services, ana.id)
    assert message.twilio_sid == accepted["sid"]
    assert message.status in ("queued", "sent", "delivered")
    assert message.sent_at == message.claimed_at

    clock.advance(hours=1)
    delivery.sweep(services)
    run_jobs()
    assert creates(local_twilio) == 1 and len(local_twilio.messages()) == 1


def test_timeout_before_twilio_took_the_message_is_requeued_and_sent_once(
    services, ana, run_jobs, local_twilio, clock
):
    # The create hangs past our timeout and then fails: Twilio never stored it.
    local_twilio.hang(TIMEOUT * 1.5, to=ANA, times=1)
    local_twilio.fail(500, to=ANA, times=1)
    run_jobs()
    assert invitation(services, ana.id).status == "claimed"
    wait_until(lambda: len(local_twilio.rejected()) == 1)
    assert local_twilio.messages() == []

    clock.advance(seconds=services.settings.claim_stale_seconds + 1)
    assert delivery.sweep(services)["stale"] == 1
    message = invitation(services, ana.id)
    assert message.status == "pending" and message.twilio_sid is None

    assert delivery.sweep(services)["due"] == 1
    run_jobs()
    [accepted] = local_twilio.messages()
    message = invitation(services, ana.id)
    assert message.status == "queued" and message.twilio_sid == accepted["sid"]
    assert message.attempts == 2

    clock.advance(hours=1)
    delivery.sweep(services)
    run_jobs()
    assert len(local_twilio.messages()) == 1 and creates(local_twilio) == 2


def test_reconcile_waits_while_twilio_is_unreachable(services, ana, run_jobs, local_twilio, clock):
    local_twilio.hang(TIMEOUT * 1.5, to=ANA, after_record=True, times=1)
    run_jobs()
    wait_until(lambda: creates(local_twilio) == 1)
    message = invitation(services, ana.id)
    assert message.status == "claimed"

    # Twilio's API is gone (connection refused): the claim stays, nothing is resent.
    services.gateway = TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, api_base_url="http://127.0.0.1:1", timeout=TIMEOUT
    )
    clock.advance(seconds=services.settings.claim_stale_seconds + 1)
    assert statuses.reconcile(services, message.id) == "later"
    delivery.sweep(services)
    assert invitation(services, ana.id).status == "claimed"

    services.gateway = TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, api_base_url=local_twilio.base_url, timeout=TIMEOUT
    )
    assert statuses.reconcile(services, message.id) == "found"
    delivery.sweep(services)
    run_jobs()
    assert creates(local_twilio) == 1


# Permanent errors about the person ------------------------------------------------------


def test_carrier_opt_out_21610_stops_every_text(
    services, program, ana, run_jobs, local_twilio, clock
):
    ben = make_participant(services, program, name="Ben Okafor", phone=BEN)
    # Queued before Twilio tells us she opted out; due after.
    later = queue_note(services, ana.id, "note:ana:1")
    local_twilio.fail(21610, to=ANA)
    run_jobs()  # both invitations

    message = invitation(services, ana.id)
    assert message.status == "failed" and message.error_code == 21610
    person = get(services, Participant, ana.id)
    assert person.status == "opted_out" and person.opted_out_at == clock()
    [item] = attention(services, ana.id)
    assert item.kind == "opted_out" and "21610" in item.detail

    # The text queued earlier is cancelled when its turn comes, never sent.
    assert delivery.sweep(services)["due"] == 1
    run_jobs()
    assert get(services, Message, later.id).status == "cancelled"
    assert get(services, Message, later.id).twilio_sid is None
    # Nothing new can even be queued for her.
    assert queue_note(services, ana.id, "note:ana:2") is None

    clock.advance(days=1)
    delivery.sweep(services)
    run_jobs()
    assert [r["code"] for r in local_twilio.rejected()] == [21610]
    assert [m["to"] for m in local_twilio.messages()] == [BEN]  # Ben is unaffected
    assert get(services, Participant, ben.id).status == "invited"


@pytest.mark.parametrize("code", [21211, 21614])
def test_unreachable_number_is_flagged_and_never_retried(
    services, ana, run_jobs, local_twilio, clock, code
):
    local_twilio.fail(code, to=ANA)
    run_jobs()

    message = invitation(services, ana.id)
    assert message.status == "failed" and message.error_code == code
    assert message.attempts == 1
    assert get(services, Participant, ana.id).status == "undeliverable"
    [item] = attention(services, ana.id)
    assert item.kind == "undeliverable" and str(code) in item.detail
    assert queue_note(services, ana.id, "note:ana:1") is None

    clock.advance(hours=3)
    delivery.sweep(services)
    run_jobs()
    assert creates(local_twilio) == 1
    assert local_twilio.messages() == []


# Per-sender messages-per-second cap --------------------------------------------------------


class FakeTime:
    """time.time for the limiter."""

    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now


def test_limiter_gives_each_sender_n_a_second(redis_conn):
    fake = FakeTime(1_000_000.25)
    limiter = SenderRateLimit(redis_conn, 3, clock=fake.time)
    waits = [limiter.reserve(PROGRAM_NUMBER) for _ in range(7)]
    # A burst of three at once, then one slot every third of a second.
    assert waits == [0.0, 0.0, 0.0] + [pytest.approx(k / 3, abs=0.002) for k in (1, 2, 3, 4)]

    # Another sender in the same instant is not held back.
    assert [limiter.reserve("+12015550199") for _ in range(3)] == [0.0, 0.0, 0.0]

    # A second worker shares the slots through Redis: its next one is after the seventh.
    other = SenderRateLimit(redis_conn, 3, clock=fake.time)
    assert other.reserve(PROGRAM_NUMBER) == pytest.approx(5 / 3, abs=0.002)

    # Once the slots taken are past, the sender has its burst again.
    fake.now += 10
    assert [limiter.reserve(PROGRAM_NUMBER) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.reserve(PROGRAM_NUMBER) > 0


def test_limiter_off_never_holds_back(redis_conn):
    limiter = SenderRateLimit(redis_conn, 0)
    assert {limiter.reserve(PROGRAM_NUMBER) for _ in range(50)} == {0.0}
    assert redis_conn.keys("realign:mps:*") == []


def test_a_busy_sender_is_held_back_without_holding_the_worker(services, local_twilio, clock):
    """Texts past their number's cap are given back and queued for their slots (no
    sleeping in the worker); the other number's texts go at once; each is sent once."""
    assert isinstance(services.rate_limit, SenderRateLimit)  # wired by the factory
    assert services.rate_limit.mps == services.settings.sender_mps
    fake = FakeTime(2_000_000.5)
    services.rate_limit = SenderRateLimit(services.redis, 2, clock=fake.time)

    busy = make_program(services)
    quiet = make_program(
        services, email="lee@example.org", name="Team Reset", sender_number="+12015550199"
    )
    ids = [
        invitation(
            services, make_participant(services, busy, name=f"B{i}", phone=f"+120155501{40 + i}").id
        ).id
        for i in range(5)
    ] + [
        invitation(
            services,
            make_participant(services, quiet, name=f"Q{i}", phone=f"+120155501{50 + i}").id,
        ).id
        for i in range(2)
    ]
    start = clock()

    outcomes = delivery.deliver_many(services, ids, concurrency=1)
    assert outcomes == {"queued": 4, "held": 3}
    sent = [m["to"] for m in local_twilio.messages()]
    assert sorted(sent) == ["+12015550140", "+12015550141", "+12015550150", "+12015550151"]

    # The three held back wait as pending rows, each due at its slot, in jobs for then.
    held = [get(services, Message, i) for i in ids[2:5]]
    assert {m.status for m in held} == {"pending"}
    # (Slots half a second apart; one job per second of slots, due at the whole second
    # after its last one: RQ's scheduler keeps whole seconds.)
    assert [m.send_after for m in held] == [
        start + timedelta(seconds=1),
        start + timedelta(seconds=2),
        start + timedelta(seconds=2),
    ]
    scheduled = []
    due_at = {m.id: m.send_after for m in held}
    for queue in lane_queues(services.redis):
        registry = queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            job = queue.fetch_job(job_id)
            scheduled.append((queue.name, job.args, job.kwargs))
            # RQ moves it to its lane no earlier than its rows are due.
            assert registry.get_scheduled_time(job) >= max(due_at[i] for i in job.args[0])
    assert sorted(scheduled) == [
        ("sends", ([ids[2]], True), {}),
        ("sends", ([ids[3], ids[4]], True), {}),
    ]
    # The sweep does not queue them again while their jobs hold them.
    clock.advance(seconds=2)
    assert delivery.sweep(services)["due"] == 0

    # Their jobs send them at once when they run (their slots were taken).
    for queue in lane_queues(services.redis):
        for job_id in queue.scheduled_job_registry.get_job_ids():
            queue.fetch_job(job_id).perform()
    assert Counter(m["to"] for m in local_twilio.messages()) == dict.fromkeys(
        [f"+120155501{n}" for n in (40, 41, 42, 43, 44, 50, 51)], 1
    )


# A claim is a lease --------------------------------------------------------------------


class SlowSenderLimit:
    """A slow API: each send's turn comes 30 s later (on the test's clock)."""

    def __init__(self, clock):
        self.clock = clock

    def reserve(self, sender: str) -> float:
        self.clock.advance(seconds=30)
        return 0.0


def test_a_batch_that_outlives_its_claim_sends_no_row_twice(
    services, program, run_jobs, local_twilio, clock
):
    """Held back by a slow API, a batch must not start sends the sweeper may already have
    settled: what it could not start in time is queued again and sent once."""
    people = [
        make_participant(services, program, name=f"P{i}", phone=f"+1201555016{i}") for i in range(6)
    ]
    ids = [invitation(services, p.id).id for p in people]  # their send jobs wait in Redis
    services.rate_limit = SlowSenderLimit(clock)
    start = clock()
    # CLAIM_STALE_SECONDS 120, TWILIO_TIMEOUT 1: sends may start until +117 s.
    outcomes = delivery.deliver_many(services, ids, concurrency=1)
    assert outcomes == {"queued": 3, "released": 3}
    assert [m["to"] for m in local_twilio.messages()] == [p.phone for p in people[:3]]
    late = [get(services, Message, i) for i in ids[3:]]
    assert {(m.status, m.attempts, m.send_after) for m in late} == {("pending", 0, clock())}

    # Past the lease the sweeper finds no claim of this batch left to settle, and leaves
    # the given-back rows to the job that holds them; the queued jobs (the invitations',
    # the given-back rows') send each row once.
    assert clock() - start > timedelta(seconds=services.settings.claim_stale_seconds)
    services.rate_limit = SenderRateLimit(services.redis, 0)  # no cap
    found = delivery.sweep(services)
    assert (found["due"], found["held"], found["stale"]) == (0, 3, 0)
    run_jobs()
    assert sorted(m["to"] for m in local_twilio.messages()) == sorted(p.phone for p in people)
    assert creates(local_twilio) == len(people)


def test_a_worker_gives_back_only_rows_still_under_its_own_claim(services, program, clock):
    people = [
        make_participant(services, program, name=f"R{i}", phone=f"+1201555017{i}") for i in range(3)
    ]
    ids = [invitation(services, p.id).id for p in people]
    first = clock()
    with services.sessions() as session:
        assert len(delivery.claim(session, ids, first)) == 3
    # The sweeper settled the last row as abandoned and another worker claimed it again.
    second = clock.advance(minutes=3)
    with services.sessions() as session:
        session.get(Message, ids[2]).status = "pending"
        session.commit()
        assert [m.id for m in delivery.claim(session, ids, second)] == [ids[2]]

    with services.sessions() as session:
        assert delivery.release(session, ids, first, second) == ids[:2]
    rows = [get(services, Message, i) for i in ids]
    assert [r.status for r in rows] == ["pending", "pending", "claimed"]
    assert rows[2].claimed_at == second


def test_the_sweep_leaves_rows_to_the_jobs_that_wait_with_them(
    services, program, run_jobs, local_twilio, clock
):
    """Behind a wave, send jobs wait minutes for a worker: the sweep must not queue their
    rows again. A job lost with its worker is not waiting any more: its rows are found."""
    people = [
        make_participant(services, program, name=f"W{i}", phone=f"+120155519{i:02d}")
        for i in range(30)
    ]
    assert queued_count(services.redis) > 0  # their invitations' send jobs wait
    clock.advance(minutes=5)
    for _ in range(3):  # three sweeps while the jobs wait: nothing queued twice
        found = delivery.sweep(services)
        assert (found["due"], found["held"]) == (0, 30)
    waiting = queued_count(services.redis)

    for queue in lane_queues(services.redis):
        queue.empty()  # the jobs are lost (a worker died holding them, say)
    found = delivery.sweep(services)
    assert (found["due"], found["held"]) == (30, 0)
    assert queued_count(services.redis) == 1 < waiting  # one batch, on the bulk lane
    run_jobs()
    clock.advance(seconds=5)  # (past the number's cap: the rest at their slots)
    release_due(services.redis, clock())
    run_jobs()
    assert sorted(m["to"] for m in local_twilio.messages()) == sorted(p.phone for p in people)
