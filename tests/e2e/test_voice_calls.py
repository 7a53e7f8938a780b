"""Calls out, against the local Twilio API, with its status callbacks reaching the live app.

The app is served over HTTP on a local port (its public URL), so LocalTwilio's signed
callbacks arrive exactly as Twilio's would: no-answer, busy and failed outcomes injected
there drive the retries.
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

import jobs.tasks
from service.models import AttentionItem, Call, Participant
from service.voice import calls
from tests.support.factories import (
    ANA,
    PROGRAM_NUMBER,
    get,
    make_participant,
    make_program,
    sms_form,
)
from tests.support.twilio import live_settings, local_gateway
from tests.support.voice import at_step, path_of, said, twiml, voice_form

_sms = itertools.count(1)


@pytest.fixture
def twilio_api(local_twilio):
    return local_twilio


@pytest.fixture
def settings(tmp_path, database_url, redis_url, live_port):
    return live_settings(tmp_path, database_url, redis_url, live_port)


@pytest.fixture
def gateway(twilio_api):
    return local_gateway(twilio_api)


@pytest.fixture
def ana(services):
    program = make_program(services)
    person = make_participant(services, program)
    at_step(services, person.id, 3)
    return person


def text_call(services, twilio_post, run_jobs) -> Call:
    """Ana texts CALL; returns the pending call it creates."""
    response = twilio_post("/twilio/sms", sms_form("CALL", sid=f"SM{next(_sms):032d}"))
    assert response.status_code == 200
    run_jobs()
    with services.sessions() as session:
        [call] = session.exec(select(Call)).all()
    return call


def call_callbacks(twilio_api, count: int, timeout: float = 10.0) -> list[dict]:
    """Wait until `count` call status callbacks were posted to (and answered by) the app."""
    deadline = time.monotonic() + timeout
    while True:
        done = [
            c
            for c in twilio_api.callbacks()
            if "/twilio/voice/status" in c["url"] and (c["status"] or c["error"])
        ]
        if len(done) >= count:
            return done
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} call callbacks, got {done}")
        time.sleep(0.02)


def flags(services, kind):
    with services.sessions() as session:
        return list(session.exec(select(AttentionItem).where(AttentionItem.kind == kind)).all())


def test_unanswered_calls_are_retried_with_growing_gaps_then_flagged(
    services, settings, live, ana, twilio_post, run_jobs, twilio_api, clock
):
    call = text_call(services, twilio_post, run_jobs)
    start = services.now()
    assert (call.status, call.direction, call.next_attempt_at) == ("pending", "out", start)
    twilio_api.fail_call("no-answer", to=ANA)

    assert jobs.tasks.sweep_voice()["calls"]["placed"] == 1
    [placed] = twilio_api.calls()
    assert (placed["to"], placed["from"]) == (ANA, PROGRAM_NUMBER)
    assert placed["url"] == f"{settings.public_base_url}/twilio/voice?call={call.id}"
    assert placed["status_callback"] == (
        f"{settings.public_base_url}/twilio/voice/status?call={call.id}&attempt=1"
    )
    [callback] = call_callbacks(twilio_api, 1)
    assert (callback["params"]["CallStatus"], callback["status"]) == ("no-answer", 204)
    call = get(services, Call, call.id)
    assert (call.status, call.attempts, call.call_sid) == ("pending", 1, placed["sid"])
    assert call.next_attempt_at == start + timedelta(minutes=15)

    # Not before the gap.
    assert jobs.tasks.sweep_voice()["calls"]["placed"] == 0
    clock.advance(minutes=15)
    assert jobs.tasks.sweep_voice()["calls"]["placed"] == 1
    call_callbacks(twilio_api, 2)
    call = get(services, Call, call.id)
    assert (call.status, call.attempts) == ("pending", 2)
    assert call.next_attempt_at == services.now() + timedelta(hours=1)
    assert flags(services, "call_failed") == []

    clock.advance(hours=1)
    assert jobs.tasks.sweep_voice()["calls"]["placed"] == 1
    call_callbacks(twilio_api, 3)
    call = get(services, Call, call.id)
    assert (call.status, call.attempts) == ("no-answer", 3)  # 1 + call_retries (2)
    [flag] = flags(services, "call_failed")
    assert (flag.participant_id, flag.detail) == (ana.id, "we tried to call 3 times: no answer")

    clock.advance(hours=5)
    jobs.tasks.sweep_voice()
    assert len(twilio_api.calls()) == 3


def test_a_busy_line_then_an_answer(services, live, ana, twilio_post, run_jobs, twilio_api, clock):
    call = text_call(services, twilio_post, run_jobs)
    twilio_api.fail_call("busy", to=ANA, times=1)
    jobs.tasks.sweep_voice()
    call_callbacks(twilio_api, 1)
    assert get(services, Call, call.id).status == "pending"
    clock.advance(minutes=15)
    jobs.tasks.sweep_voice()
    [_, second] = call_callbacks(twilio_api, 2)
    assert second["params"]["CallStatus"] == "completed"
    call = get(services, Call, call.id)
    assert (call.status, call.attempts, call.call_sid) == (
        "completed",
        2,
        twilio_api.calls()[1]["sid"],
    )
    assert flags(services, "call_failed") == []


def test_duplicate_and_late_status_callbacks_change_nothing(
    services, live, ana, twilio_post, run_jobs, twilio_api, clock
):
    call = text_call(services, twilio_post, run_jobs)
    twilio_api.fail_call("no-answer", to=ANA)
    jobs.tasks.sweep_voice()
    [first] = call_callbacks(twilio_api, 1)
    before = get(services, Call, call.id)
    for _ in range(2):  # Twilio retries a callback
        assert twilio_post(path_of(first["url"]), first["params"]).status_code == 204
    after = get(services, Call, call.id)
    assert (after.status, after.attempts, after.next_attempt_at) == (
        before.status,
        before.attempts,
        before.next_attempt_at,
    )
    # The second attempt is ringing when attempt one's callback comes again, very late.
    clock.advance(minutes=15)
    twilio_api.clear_faults()
    jobs.tasks.sweep_voice()
    call_callbacks(twilio_api, 2)
    assert twilio_post(path_of(first["url"]), first["params"]).status_code == 204
    call = get(services, Call, call.id)
    assert (call.status, call.attempts) == ("completed", 2)
    assert flags(services, "call_failed") == []


def test_calls_wait_for_waking_hours(services, live, ana, twilio_post, run_jobs, twilio_api, clock):
    clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # 02:00 in New York
    call = text_call(services, twilio_post, run_jobs)
    morning = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 08:00 there
    assert call.next_attempt_at == morning
    assert jobs.tasks.sweep_voice()["calls"]["due"] == 0
    # Even a row due now (a program's scheduled call, say) waits for the morning.
    with services.sessions() as session:
        row = session.get(Call, call.id)
        row.next_attempt_at = clock()
        session.add(row)
        session.commit()
    assert calls.place(services, call.id) == "later"
    assert get(services, Call, call.id).next_attempt_at == morning
    assert twilio_api.calls() == []
    clock.set(morning)
    assert calls.place(services, call.id) == "placed"
    assert len(twilio_api.calls()) == 1


def test_a_retry_gap_that_runs_into_the_night_waits_for_the_morning(
    services, live, ana, twilio_post, run_jobs, twilio_api, clock
):
    clock.set(datetime(2026, 3, 4, 1, 30, tzinfo=UTC))  # 20:30 in New York; waking ends 21:00
    call = text_call(services, twilio_post, run_jobs)
    twilio_api.fail_call("no-answer", to=ANA)
    jobs.tasks.sweep_voice()
    call_callbacks(twilio_api, 1)
    assert get(services, Call, call.id).next_attempt_at == datetime(2026, 3, 4, 1, 45, tzinfo=UTC)
    clock.advance(minutes=15)
    jobs.tasks.sweep_voice()
    call_callbacks(twilio_api, 2)
    # 21:45 is past waking hours: 08:00 the next morning instead.
    assert get(services, Call, call.id).next_attempt_at == datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


def test_each_attempt_is_placed_once_even_by_racing_workers(
    services, live, ana, twilio_post, run_jobs, twilio_api
):
    call = text_call(services, twilio_post, run_jobs)
    barrier = threading.Barrier(4)
    outcomes = []

    def worker():
        barrier.wait()
        outcomes.append(calls.place(services, call.id))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["placed", "skipped", "skipped", "skipped"]
    assert len(twilio_api.calls()) == 1
    assert calls.place(services, call.id) == "skipped"  # a redelivered job
    assert get(services, Call, call.id).attempts == 1


def test_nobody_is_called_after_opting_out(services, live, ana, twilio_post, run_jobs, twilio_api):
    call = text_call(services, twilio_post, run_jobs)
    twilio_post("/twilio/sms", sms_form("STOP", sid=f"SM{next(_sms):032d}"))
    run_jobs()
    jobs.tasks.sweep_voice()
    assert get(services, Call, call.id).status == "cancelled"
    assert twilio_api.calls() == []


def test_a_number_twilio_refuses_is_flagged_at_once(
    services, live, ana, twilio_post, run_jobs, twilio_api
):
    call = text_call(services, twilio_post, run_jobs)
    twilio_api.fail(21211, to=ANA)  # not a valid phone number
    assert calls.place(services, call.id) == "failed"
    assert get(services, Call, call.id).status == "failed"
    [flag] = flags(services, "call_failed")
    assert flag.detail.startswith("the call could not be placed")
    assert "+1201" not in flag.detail  # Twilio's wording names the number: masked


def test_twilio_unavailable_counts_as_an_attempt(
    services, live, ana, twilio_post, run_jobs, twilio_api
):
    call = text_call(services, twilio_post, run_jobs)
    twilio_api.fail(500, to=ANA, times=1)
    assert calls.place(services, call.id) == "retry"
    call = get(services, Call, call.id)
    assert (call.status, call.attempts) == ("pending", 1)
    assert call.next_attempt_at == services.now() + timedelta(minutes=15)


def test_an_unknown_outcome_is_settled_by_the_status_callback(
    services, live, ana, twilio_post, run_jobs, twilio_api
):
    call = text_call(services, twilio_post, run_jobs)
    twilio_api.hang(3, to=ANA, after_record=True, times=1)  # created, then no response
    assert calls.place(services, call.id) == "unknown"
    assert get(services, Call, call.id).status in ("claimed", "completed")
    call_callbacks(twilio_api, 1)
    call = get(services, Call, call.id)
    assert (call.status, call.call_sid) == ("completed", twilio_api.calls()[0]["sid"])
    assert len(twilio_api.calls()) == 1


def test_a_claim_that_never_settles_becomes_a_retry(services, ana, twilio_post, run_jobs, clock):
    call = text_call(services, twilio_post, run_jobs)
    with services.sessions() as session:  # a worker died right after claiming
        row = session.get(Call, call.id)
        row.status, row.attempts, row.updated_at = "claimed", 1, clock()
        session.add(row)
        session.commit()
    clock.advance(minutes=11)
    result = calls.sweep(services)
    assert result["stale"] == 1
    call = get(services, Call, call.id)
    assert (call.status, call.attempts) == ("pending", 1)
    assert call.next_attempt_at == clock() + timedelta(minutes=15)


def test_answering_our_call_greets_them_as_asked(services, settings, ana, twilio_post):
    with services.sessions() as session:
        row = Call(
            participant_id=ana.id,
            direction="out",
            call_sid="CA" + "7" * 32,
            status="ringing",
            attempts=1,
            created_at=services.now(),
            updated_at=services.now(),
        )
        session.add(row)
        session.commit()
        call_id = row.id
    form = voice_form(row.call_sid, from_=PROGRAM_NUMBER, to=ANA, direction="outbound-api")
    root = twiml(twilio_post(f"/twilio/voice?call={call_id}", form))
    assert said(root).startswith("Hi Ana, this is Founders Reset, calling as you asked.")
    assert root.find("Gather") is not None
    assert get(services, Call, call_id).status == "in-progress"
    # The menu's requests carry Direction=outbound-api: she is found by the number called.
    menu = twiml(twilio_post("/twilio/voice/menu", {**form, "Digits": "1"}))
    assert menu.find("Record") is not None
    assert get(services, Participant, ana.id).step == 3
