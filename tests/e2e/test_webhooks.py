"""Event webhooks to a real local HTTP receiver started by the test: the outbox row is
written with the event, the POST is signed (checked with the documented recipe), and a
receiver that fails five times and then answers 200 gets the event exactly once more."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from jobs import tasks
from service.core import webhook_signing
from service.models import AttentionItem, Facilitator, WebhookDelivery
from service.program import enrollment, webhooks
from service.unit_of_work import UnitOfWork
from tests.support.factories import ANA, make_program, mark_sent, sms_form


class Receiver:
    """An HTTP server on a free local port answering each POST with the next status."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.seen: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.seen.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


def endpoint_for(services, program, url, events=("participant.enrolled",)):
    with services.sessions() as s:
        owner = s.get(Facilitator, program.owner_id)
        endpoint = webhooks.register(s, owner, url, events, now=services.now(), allow_local=True)
        s.commit()
        return endpoint


def enrol(services, program, name="Ana Reyes", phone=ANA):
    with UnitOfWork(services) as uow:
        p = enrollment.enroll(
            uow, uow.session.get(type(program), program.id), name=name, phone=phone
        )
        uow.commit()
        return p


def deliveries(services):
    with services.sessions() as s:
        return list(s.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_an_enrolment_is_delivered_signed(services, run_jobs, receiver_factory, clock):
    receiver = receiver_factory()
    program = make_program(services)
    endpoint = endpoint_for(services, program, receiver.url)
    participant = enrol(services, program)
    [row] = deliveries(services)  # written with the enrolment, before any job ran
    assert row.status == "pending" and row.event_type == "participant.enrolled"
    run_jobs()
    [(headers, body)] = receiver.seen
    now = clock().timestamp()
    assert webhook_signing.verify(endpoint.secret, headers["Realign-Signature"], body, now)
    assert not webhook_signing.verify("whsec_other", headers["Realign-Signature"], body, now)
    assert not webhook_signing.verify(
        endpoint.secret, headers["Realign-Signature"], body, now + 600
    )
    event = json.loads(body)
    assert event["type"] == "participant.enrolled" and event["id"].startswith("evt_")
    assert event["data"]["id"] == participant.id and event["data"]["phone"].endswith("23")
    assert "2015550123" not in body.decode()  # masked, as the API shows it
    assert deliveries(services)[0].status == "delivered"


def test_five_failures_then_success_gives_exactly_one_more_delivery(
    services, run_jobs, receiver_factory, clock
):
    receiver = receiver_factory([500] * 5)
    program = make_program(services)
    endpoint_for(services, program, receiver.url)
    enrol(services, program)
    run_jobs()
    [row] = deliveries(services)
    outcomes = []
    for _ in range(5):
        row = deliveries(services)[0]
        assert row.status == "pending" and row.next_attempt_at > clock()
        clock.set(row.next_attempt_at)
        outcomes.append(tasks.deliver_webhook(row.id))  # what the scheduled job runs
    assert outcomes == ["retry"] * 4 + ["delivered"]
    assert len(receiver.seen) == 6 and len({b for _, b in receiver.seen}) == 1
    assert tasks.deliver_webhook(row.id) == "skipped"  # delivered once: never again
    assert len(receiver.seen) == 6
    assert deliveries(services)[0].attempts == 6


def test_retries_stop_after_a_day(services, run_jobs, receiver_factory, clock):
    receiver = receiver_factory([503] * 100)
    program = make_program(services)
    endpoint_for(services, program, receiver.url)
    enrol(services, program)
    run_jobs()
    while (row := deliveries(services)[0]).status == "pending":
        clock.set(row.next_attempt_at)
        tasks.deliver_webhook(row.id)
    assert row.status == "failed" and row.last_status_code == 503
    assert (clock() - row.created_at).total_seconds() <= 24 * 3600
    # A day with nothing taken: the endpoint is disabled and its facilitator told.
    from service.models import AttentionItem, WebhookEndpoint

    with services.sessions() as s:
        assert s.get(WebhookEndpoint, row.endpoint_id).disabled_at is not None
        [item] = s.scalars(sa.select(AttentionItem)).all()
    assert item.kind == "webhook_failing" and item.participant_id == row.participant_id
    assert "127.0.0.1" in item.detail and "/hooks" not in item.detail
    tries = len(receiver.seen)
    enrol(services, program, name="Bo", phone="+12015550124")
    run_jobs()
    assert len(receiver.seen) == tries  # nothing more is sent to it


def test_a_claimed_delivery_is_not_sent_twice(services, run_jobs, receiver_factory, clock):
    receiver = receiver_factory()
    program = make_program(services)
    endpoint_for(services, program, receiver.url)
    enrol(services, program)
    [row] = deliveries(services)
    with services.sessions() as s:  # another worker is sending it right now
        s.get(WebhookDelivery, row.id).claimed_at = clock()
        s.commit()
    assert tasks.deliver_webhook(row.id) == "skipped" and receiver.seen == []
    clock.advance(seconds=61)  # that worker died: its claim is taken over
    assert tasks.deliver_webhook(row.id) == "delivered" and len(receiver.seen) == 1


def test_only_endpoints_of_facilitators_who_see_the_program_get_it(
    services, run_jobs, receiver_factory
):
    mine, theirs = receiver_factory(), receiver_factory()
    program = make_program(services)
    other = make_program(
        services, email="ben@example.org", name="Ben's", sender_number="+12015550177"
    )
    endpoint_for(services, program, mine.url)
    endpoint_for(services, other, theirs.url)
    enrol(services, program)
    run_jobs()
    assert len(mine.seen) == 1 and theirs.seen == []


def test_an_endpoint_must_be_https(services):
    program = make_program(services)
    for url in ("http://crm.example.org/hook", "ftp://x", "", "https://"):
        with pytest.raises(webhooks.WebhookError):
            endpoint_for(services, program, url)
    with services.sessions() as s:  # in production not even this machine over plain http
        owner = s.get(Facilitator, program.owner_id)
        with pytest.raises(webhooks.WebhookError):
            webhooks.register(s, owner, "http://127.0.0.1:9/x", ["participant.enrolled"],
                              now=services.now())  # fmt: skip


def test_the_readmes_receiver_verifies_a_real_delivery(services, run_jobs, receiver_factory, clock):
    """The recipe in the README, run as it is written, accepts what was sent and refuses a
    replay or a changed body."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    code = readme.split("A receiver in a few lines of Flask:\n\n```python\n")[1].split("```")[0]
    scope: dict = {"__name__": __name__}
    exec(compile(code, "README receiver", "exec"), scope)  # noqa: S102 (our own README)
    receiver = receiver_factory()
    program = make_program(services)
    endpoint = endpoint_for(services, program, receiver.url)
    enrol(services, program)
    run_jobs()
    [(headers, body)] = receiver.seen
    check, now = scope["verified"], clock().timestamp()
    assert check(endpoint.secret, headers["Realign-Signature"], body, now)
    assert not check(endpoint.secret, headers["Realign-Signature"], body + b" ", now)
    assert not check(endpoint.secret, headers["Realign-Signature"], body, now + 301)
    client = scope["app"].test_client()
    scope["SECRET"] = endpoint.secret
    fresh = webhook_signing.header(endpoint.secret, int(time.time()), body)
    kinds = {"Content-Type": "application/json"}
    ok = client.post("/realign", data=body, headers={**kinds, "Realign-Signature": fresh})
    assert ok.status_code == 204
    # What the test's clock signed months ago is, to the README's app, a replay.
    old = client.post(
        "/realign",
        data=body,
        headers={**kinds, **{"Realign-Signature": headers["Realign-Signature"]}},
    )
    assert old.status_code == 400


def test_consent_steps_and_stop_are_events_too(services, run_jobs, receiver_factory, twilio_post):
    receiver = receiver_factory()
    program = make_program(services)
    wanted = (
        "participant.consented", "participant.step_changed", "participant.opted_out",
        "statement.recorded",
    )  # fmt: skip
    endpoint_for(services, program, receiver.url, wanted)
    participant = enrol(services, program)
    run_jobs()
    assert receiver.seen == []  # enrolled is not among the events it asked for
    for n, body in enumerate(("YES", "I missed the launch.", "STOP")):
        form = sms_form(body, sid=f"SM{n:032d}")
        assert twilio_post("/twilio/sms", form).status_code == 200
        run_jobs()
    events = [json.loads(body) for _, body in receiver.seen]
    assert [e["type"] for e in events] == [
        "participant.consented", "statement.recorded", "participant.opted_out",
    ]  # fmt: skip
    assert events[0]["data"]["id"] == participant.id and events[0]["data"]["consent_at"]
    assert events[1]["data"]["participant_id"] == participant.id
    assert events[1]["data"]["body"] == "I missed the launch."
    assert events[1]["data"]["kind"] == "what_happened"
    assert events[2]["data"]["status"] == "opted_out"
    assert len({e["id"] for e in events}) == 3


def test_agreeing_and_answering_a_check_in_are_events(
    services, run_jobs, receiver_factory, twilio_post, clock
):
    from jobs import tasks as job_tasks
    from service.models import Participant
    from service.program import commitments

    receiver = receiver_factory()
    program = make_program(services)
    wanted = ("commitment.agreed", "participant.step_changed", "checkin.answered")
    endpoint_for(services, program, receiver.url, wanted)
    participant = enrol(services, program)
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, participant.id)
        p.status, p.consent_at, p.step = "active", clock(), 4
        commitments.add_commitment(uow.session, p, "Call before cancelling", now=clock())
        uow.commit()
    run_jobs()
    assert twilio_post("/twilio/sms", sms_form("agree", sid="SM" + "a" * 32)).status_code == 200
    run_jobs()
    with services.sessions() as s:
        s.get(Participant, participant.id).next_checkin_at = clock()
        s.commit()
    job_tasks.tick()
    run_jobs()
    assert twilio_post("/twilio/sms", sms_form("Y", sid="SM" + "b" * 32)).status_code == 200
    run_jobs()
    events = [json.loads(body) for _, body in receiver.seen]
    types = [e["type"] for e in events]
    assert types == ["commitment.agreed", "participant.step_changed", "checkin.answered"]
    agreed, stepped, answered = (e["data"] for e in events)
    assert agreed["text"] == "Call before cancelling" and agreed["agreed_at"]["utc"]
    assert stepped["step"] == 5
    assert answered["status"] == "answered" and answered["results"][0]["result"] == "kept"


def test_a_delivery_whose_job_was_lost_is_found_by_the_sweep(
    services, run_jobs, receiver_factory, redis_conn, clock
):
    receiver = receiver_factory()
    program = make_program(services)
    endpoint_for(services, program, receiver.url)
    enrol(services, program)
    redis_conn.flushdb()  # Redis lost every job (an outage, a restart without persistence)
    assert run_jobs() == 0 and receiver.seen == []
    [row] = deliveries(services)
    assert webhooks.sweep(services) == 1
    assert webhooks.sweep(services) == 0  # its job now waits: not queued twice
    run_jobs()
    assert len(receiver.seen) == 1 and deliveries(services)[0].status == "delivered"
    assert webhooks.sweep(services) == 0


def test_a_facilitator_registers_reads_the_log_resends_and_disables_in_the_admin(
    admin_app, world, receiver_factory
):
    from service.core.enums import WebhookEvent
    from service.models import Participant
    from tests.support.admin_walk import login, token_for

    receiver = receiver_factory([500])
    services = admin_app.extensions["realign"]
    client = admin_app.test_client()
    login(client, "ana@example.org")
    assert 'id="no-webhooks"' in client.get("/admin/webhooks/").text
    refused = client.post(
        "/admin/webhooks/new",
        data={"url": "http://crm.example.org/x", "events": "participant.enrolled",
              "csrf_token": token_for(client)},
    )  # fmt: skip
    assert refused.status_code == 400 and "https://" in refused.text
    made = client.post(
        "/admin/webhooks/new",
        data={"url": receiver.url, "events": ["participant.enrolled", "participant.closed"],
              "csrf_token": token_for(client)},
    )  # fmt: skip
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="webhook-secret"[^>]*>(whsec_[^<]+)<', made.text).group(1)
    assert secret not in client.get("/admin/webhooks/").text
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, world.ana_participant)
        [row] = webhooks.emit(uow, WebhookEvent.PARTICIPANT_ENROLLED, p)
        uow.commit()
    assert webhooks.deliver(services, row.id) == "retry"  # the receiver answered 500
    log = client.get(f"/admin/webhooks/log?id={row.endpoint_id}").text
    assert "participant.enrolled" in log and "500" in log and "Waiting" in log

    # Ben sees none of it and can neither resend nor disable it.
    ben = admin_app.test_client()
    login(ben, "ben@example.org")
    assert receiver.url not in ben.get("/admin/webhooks/").text
    assert ben.get(f"/admin/webhooks/log?id={row.endpoint_id}").status_code == 404
    for path, rid in (("resend", row.id), ("disable", row.endpoint_id)):
        answer = ben.post(f"/admin/webhooks/{path}", data={"id": rid, "csrf_token": token_for(ben)})
        assert answer.status_code == 404

    assert webhooks.deliver(services, row.id) == "skipped"  # its next try is not due yet
    services.clock.advance(minutes=1)
    assert webhooks.deliver(services, row.id) == "delivered"
    resent = client.post(
        "/admin/webhooks/resend", data={"id": row.id, "csrf_token": token_for(client)}
    )
    assert resent.status_code == 302
    assert webhooks.deliver(services, row.id) == "delivered"
    bodies = [body for _, body in receiver.seen]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same event, sent again on request
    _, sig_body = receiver.seen[-1]
    assert webhook_signing.verify(
        secret, receiver.seen[-1][0]["Realign-Signature"], sig_body, services.now().timestamp()
    )
    disabled = client.post(
        "/admin/webhooks/disable", data={"id": row.endpoint_id, "csrf_token": token_for(client)}
    )
    assert disabled.status_code == 302 and "Disabled" in client.get("/admin/webhooks/").text
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, world.ana_participant)
        assert webhooks.emit(uow, WebhookEvent.PARTICIPANT_ENROLLED, p) == []


def test_a_missed_check_in_and_a_kept_recording_are_events(
    services, run_jobs, receiver_factory, clock
):
    from jobs import tasks as job_tasks
    from service.models import Participant, Reflection
    from service.program import commitments
    from service.voice import keeping
    from tests.support.factories import enter_step5

    receiver = receiver_factory()
    program = make_program(services)
    endpoint_for(services, program, receiver.url, ("checkin.missed", "reflection.recorded"))
    participant = enrol(services, program)
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, participant.id)
        p.status, p.consent_at, p.step = "active", clock(), 4
        commitments.add_commitment(uow.session, p, "Call before cancelling", now=clock())
        commitments.agree(uow.session, p, now=clock())
        enter_step5(uow, p)
        uow.commit()
    with services.sessions() as s:
        s.get(Participant, participant.id).next_checkin_at = clock()
        s.commit()
    job_tasks.tick()
    run_jobs()
    for _ in range(2 * 24):  # the day passes unanswered
        clock.advance(minutes=30)
        job_tasks.tick()
        run_jobs()
        if receiver.seen:
            break
    with services.sessions() as s:
        r = Reflection(participant_id=participant.id, purpose="note", recording_sid="RE" + "1" * 32,
                       duration_s=14, status="recorded")  # fmt: skip
        s.add(r)
        s.commit()
    with UnitOfWork(services) as uow:
        assert keeping.keep(uow, r.id).outcome == "message"
        uow.commit()
    run_jobs()
    events = [json.loads(body) for _, body in receiver.seen]
    types = [e["type"] for e in events]
    assert types[-1] == "reflection.recorded" and set(types[:-1]) == {"checkin.missed"}
    missed, kept = events[0]["data"], events[-1]["data"]
    assert len({e["data"]["id"] for e in events[:-1]}) == len(events) - 1  # each miss once
    assert missed["status"] == "missed" and missed["participant_id"] == participant.id
    assert kept["duration_s"] == 14 and kept["audio_url"] is None


def test_closing_is_an_event(services, run_jobs, receiver_factory):
    from service.program import closure

    receiver = receiver_factory()
    program = make_program(services)
    endpoint_for(services, program, receiver.url, ("participant.closed",))
    participant = enrol(services, program)
    closure.close(services, participant.id, outcome="restored", actor="facilitator:1")
    closure.close(services, participant.id, outcome="restored", actor="facilitator:1")  # again
    run_jobs()
    [event] = [json.loads(body) for _, body in receiver.seen]
    assert event["type"] == "participant.closed"
    assert event["data"]["status"] == "closed" and event["data"]["outcome"] == "restored"


def texted(twilio_post, run_jobs, *bodies):
    """The participant texts these, one turn each (Ana, to the program's number)."""
    for n, body in enumerate(bodies):
        form = sms_form(body, sid=f"SM{n:032d}")
        assert twilio_post("/twilio/sms", form).status_code == 200
        run_jobs()


def test_a_headsup_text_raises_an_item_delivered_signed(
    services, run_jobs, receiver_factory, twilio_post, clock
):
    receiver = receiver_factory()
    program = make_program(services)
    endpoint = endpoint_for(services, program, receiver.url, ("attention.raised",))
    participant = enrol(services, program)
    texted(twilio_post, run_jobs, "YES", "HEADSUP I may be late tonight")
    [row] = deliveries(services)  # the HEADSUP's turn wrote it with the item; a job sent it
    assert row.event_type == "attention.raised" and row.status == "delivered"
    [(headers, body)] = receiver.seen
    assert headers["Realign-Event"] == "attention.raised"
    assert webhook_signing.verify(
        endpoint.secret, headers["Realign-Signature"], body, clock().timestamp()
    )
    event = json.loads(body)
    with services.sessions() as s:
        [item] = s.scalars(sa.select(AttentionItem))
    assert event["type"] == "attention.raised"
    assert event["data"]["id"] == item.id and event["data"]["kind"] == "headsup"
    assert event["data"]["participant_id"] == participant.id
    assert event["data"]["program_id"] == program.id and event["data"]["resolved_at"] is None
    assert event["data"]["kind_label"] and event["data"]["detail"] == item.detail


def test_an_item_of_another_facilitators_program_is_not_delivered(
    services, run_jobs, receiver_factory, twilio_post
):
    mine, theirs = receiver_factory(), receiver_factory()
    program = make_program(services)
    other = make_program(
        services, email="ben@example.org", name="Ben's", sender_number="+12015550177"
    )
    endpoint_for(services, program, mine.url, ("attention.raised",))
    endpoint_for(services, other, theirs.url, ("attention.raised",))
    enrol(services, program)
    texted(twilio_post, run_jobs, "YES", "HEADSUP rough week")
    assert len(mine.seen) == 1 and theirs.seen == []
    assert json.loads(mine.seen[0][1])["data"]["program_id"] == program.id


def test_a_text_that_cannot_arrive_raises_an_item_delivered_too(
    services, run_jobs, receiver_factory, twilio_post
):
    receiver = receiver_factory()
    program = make_program(services)
    endpoint_for(services, program, receiver.url, ("attention.raised",))
    participant = enrol(services, program)
    run_jobs()
    sent = mark_sent(services)
    form = {"MessageSid": sent.twilio_sid, "MessageStatus": "undelivered", "ErrorCode": "30006"}
    assert twilio_post("/twilio/sms/status", form).status_code == 204
    run_jobs()
    kinds = [json.loads(body)["data"]["kind"] for _, body in receiver.seen]
    assert kinds  # the undeliverable number is on the list, and was sent
    with services.sessions() as s:
        raised = [a.kind for a in s.scalars(sa.select(AttentionItem).order_by(AttentionItem.id))]
    assert kinds == raised  # each item the facilitator sees, once
    assert all(json.loads(b)["data"]["participant_id"] == participant.id for _, b in receiver.seen)


def _as_left_by_a_dead_worker(services, row_id, *, sending: bool):
    """The row as a worker killed mid-try leaves it: claimed (and, once its request may
    have left, marked sending), with no outcome."""
    with services.sessions() as s:
        row = s.get(WebhookDelivery, row_id)
        row.claimed_at, row.attempts = services.now(), row.attempts + 1
        row.sending_at = services.now() if sending else None
        s.commit()


def test_a_try_whose_request_may_have_left_is_never_sent_again_by_itself(
    services, run_jobs, receiver_factory, clock
):
    receiver = receiver_factory()
    program = make_program(services)
    endpoint_for(services, program, receiver.url)
    enrol(services, program)
    [row] = deliveries(services)
    _as_left_by_a_dead_worker(services, row.id, sending=True)
    assert tasks.deliver_webhook(row.id) == "skipped"  # its worker may still be sending
    assert webhooks.sweep(services) == 0
    clock.advance(seconds=services.settings.webhook_claim_stale_seconds + 1)
    assert webhooks.sweep(services) == 0  # not queued again: marked unknown instead
    assert tasks.deliver_webhook(row.id) == "skipped"
    run_jobs()
    assert receiver.seen == []
    [row] = deliveries(services)
    assert row.status == "unknown" and row.claimed_at is None and row.next_attempt_at is None
    assert row.last_error == webhooks.UNSURE
    with services.sessions() as s:  # nothing noisy: no attention item
        assert s.scalars(sa.select(AttentionItem)).all() == []


def test_a_try_killed_before_its_request_left_is_sent_once(
    services, run_jobs, receiver_factory, clock
):
    receiver = receiver_factory()
    program = make_program(services)
    endpoint_for(services, program, receiver.url)
    enrol(services, program)
    [row] = deliveries(services)
    _as_left_by_a_dead_worker(services, row.id, sending=False)
    run_jobs()  # the job finds the claim still fresh: its worker may be alive
    assert receiver.seen == [] and webhooks.sweep(services) == 0
    clock.advance(seconds=services.settings.webhook_claim_stale_seconds + 1)
    assert webhooks.sweep(services) == 1
    run_jobs()
    assert len(receiver.seen) == 1 and deliveries(services)[0].status == "delivered"
    assert webhooks.sweep(services) == 0 and tasks.deliver_webhook(row.id) == "skipped"


def test_in_production_a_name_rebound_to_a_private_address_is_refused_at_send_time(
    services, run_jobs, clock
):
    import dataclasses

    program = make_program(services)
    answers = {"crm.example.org": ["93.184.216.34"]}
    prod = dataclasses.replace(
        services,
        settings=services.settings.model_copy(update={"env": "production"}),
        resolve=lambda host, port: answers[host],
    )
    with prod.sessions() as s:
        owner = s.get(Facilitator, program.owner_id)
        webhooks.register(s, owner, "https://crm.example.org/hook", ["participant.enrolled"],
                          now=clock(), production=True, resolve=prod.resolve)  # fmt: skip
        s.commit()
    enrol(services, program)
    [row] = deliveries(services)
    answers["crm.example.org"] = ["10.0.0.7"]  # the name now points inside
    assert webhooks.deliver(prod, row.id) == "retry"
    [row] = deliveries(services)
    assert row.last_status_code is None and row.sending_at is None
    assert row.last_error == (
        "The receiver's host crm.example.org points at 10.0.0.7, not on the public internet."
    )
