"""The inbound SMS webhook: signatures, duplicates, keywords, odd input, delivery status."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from service.models import AttentionItem, Message, Participant, Statement
from tests.support.factories import (
    ANA,
    PROGRAM_NUMBER,
    get,
    inbound,
    make_participant,
    make_program,
    mark_sent,
    outbound,
    sms_form,
)

_sids = itertools.count(1)


def sid() -> str:
    return f"SM{next(_sids):032x}"


@pytest.fixture
def text(twilio_post, run_jobs, services):
    def send(body, *, from_=ANA, **extra):
        before = {m.id for m in outbound(services)}
        response = twilio_post(
            "/twilio/sms", sms_form(body, sid=extra.pop("sid", None) or sid(), from_=from_, **extra)
        )
        assert response.status_code == 200
        run_jobs()
        return [m.template for m in outbound(services) if m.id not in before]

    return send


@pytest.fixture
def ana(services, run_jobs):
    program = make_program(services)
    participant = make_participant(services, program)
    run_jobs()
    return participant


# Signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["missing", "garbage", "wrong_url", "wrong_token", "tampered_body"],
)
def test_bad_signature_is_refused_and_nothing_is_stored(
    app, services, client, twilio_post, redis_conn, case
):
    from twilio.request_validator import RequestValidator

    form = sms_form("hello", sid=sid())
    base = services.settings.public_base_url
    token = services.webhook_token
    signature = {
        "missing": "",
        "garbage": "not-a-signature",
        "wrong_url": RequestValidator(token).compute_signature(
            "https://evil.example/twilio/sms", form
        ),
        "wrong_token": RequestValidator("0" * 32).compute_signature(base + "/twilio/sms", form),
        "tampered_body": RequestValidator(token).compute_signature(
            base + "/twilio/sms", {**form, "Body": "other"}
        ),
    }[case]
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = client.post("/twilio/sms", data=form, headers=headers, base_url=base)
    assert response.status_code == 403
    assert inbound(services) == []
    assert redis_conn.llen("rq:queue:default") == 0


def test_signature_checks_the_public_url_not_the_local_one(app, services, client):
    """Behind a TLS proxy the app sees http://internal; Twilio signed the public https URL."""
    from twilio.request_validator import RequestValidator

    form = sms_form("hello", sid=sid())
    token = services.webhook_token
    good = RequestValidator(token).compute_signature("https://realign.example.org/twilio/sms", form)
    response = client.post(
        "/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": good},
        base_url="http://10.0.0.5:8000",
    )
    assert response.status_code == 200
    local = RequestValidator(token).compute_signature("http://10.0.0.5:8000/twilio/sms", form)
    response = client.post(
        "/twilio/sms",
        data=sms_form("again", sid=sid()),
        headers={"X-Twilio-Signature": local},
        base_url="http://10.0.0.5:8000",
    )
    assert response.status_code == 403


def test_status_callback_needs_a_signature_too(app, services, client):
    response = client.post(
        "/twilio/sms/status",
        data={"MessageSid": "SMx", "MessageStatus": "failed"},
        base_url=services.settings.public_base_url,
    )
    assert response.status_code == 403


# Duplicates ---------------------------------------------------------------------------


def test_retried_delivery_is_stored_once_and_answered_the_same(
    app, services, ana, twilio_post, run_jobs
):
    form = sms_form("YES", sid=sid())
    first = twilio_post("/twilio/sms", form)
    second = twilio_post("/twilio/sms", form)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    run_jobs()
    assert len(inbound(services)) == 1
    sent = [m.template for m in outbound(services, ana.id)]
    assert sent.count("consent_thanks") == 1 and sent.count("step1_what_happened") == 1


def test_concurrent_duplicates_are_stored_once(app, services, ana, twilio_post):
    form = sms_form("YES", sid=sid())
    codes = []

    def post():
        with app.app_context():
            codes.append(twilio_post("/twilio/sms", form).status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 8
    assert len(inbound(services)) == 1


def test_processing_an_inbound_twice_changes_nothing(app, services, ana, text):
    from service.program import conversation

    text("YES")
    [message] = inbound(services)
    before = len(outbound(services))
    assert conversation.handle_inbound(services, message.id) == "duplicate"
    assert len(outbound(services)) == before


# Unknown senders ----------------------------------------------------------------------


def test_unknown_number_gets_one_polite_reply_a_day_and_is_kept(app, services, ana, text, clock):
    stranger = "+12015550199"
    assert text("hello?", from_=stranger) == ["unknown_sender"]
    assert text("hello??", from_=stranger) == []
    kept = [m for m in inbound(services) if m.from_number == stranger]
    assert [m.body for m in kept] == ["hello?", "hello??"]
    assert all(m.participant_id is None and m.program_id is not None for m in kept)
    clock.advance(days=1)
    assert text("still there?", from_=stranger) == ["unknown_sender"]


# Keywords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        "REVOKE",
        "optout",
    ],
)
def test_opt_out_words_stop_everything_without_a_reply(app, services, ana, text, word):
    text("YES")
    assert text(word) == []
    p = get(services, Participant, ana.id)
    assert p.status == "opted_out" and p.opted_out_at is not None
    # Anything after, even HELP, gets no text of any kind.
    assert text("HELP") == []
    assert text("why did you stop?") == []
    pending = [m for m in outbound(services, ana.id) if m.status == "pending"]
    assert pending == []


def test_opt_out_cancels_queued_texts(app, services, clock, text, run_jobs):
    from datetime import UTC, datetime

    program = make_program(services)
    clock.set(datetime(2026, 3, 4, 3, 0, tzinfo=UTC))  # 22:00 in New York: invite waits
    participant = make_participant(services, program)
    run_jobs()
    [invite] = outbound(services, participant.id)
    assert invite.status == "pending"
    assert text("STOP") == []
    assert get(services, Message, invite.id).status == "cancelled"


@pytest.mark.parametrize("word", ["START", "unstop", "YES"])
def test_start_resumes(app, services, ana, text, word):
    text("YES")
    text("STOP")
    assert text(word) == ["resumed"]
    assert get(services, Participant, ana.id).status == "active"


def test_yes_while_opted_out_before_consent_is_consent(app, services, ana, text):
    text("STOP")
    assert text("yes") == ["consent_thanks", "step1_what_happened"]
    assert get(services, Participant, ana.id).status == "active"


def test_help_info_pause_resume_status_headsup_skip(app, services, ana, text):
    text("YES")
    assert text("help") == ["help"]
    help_text = outbound(services, ana.id)[-1].body
    assert "Founders Reset" in help_text and "Dana Coach" in help_text and "STOP" in help_text
    assert text("INFO") == ["help"]
    assert text("PAUSE") == ["paused"]
    assert get(services, Participant, ana.id).status == "paused"
    assert text("resume") == ["unpaused"]
    assert get(services, Participant, ana.id).status == "active"
    assert text("STATUS") == ["status_answer"]
    assert "Naming the misalignment" in outbound(services, ana.id)[-1].body
    assert text("HEADSUP I may miss Friday's call") == ["headsup_thanks"]
    with services.sessions() as session:
        kinds = [i.kind for i in session.exec(select(AttentionItem).order_by(AttentionItem.id))]
        assert kinds == ["paused", "resumed", "headsup"]
        headsup = session.exec(select(Statement).where(Statement.kind == "headsup")).one()
        assert headsup.body == "I may miss Friday's call"
    assert text("SKIP") == ["skipped", "step1_emotions"]
    assert get(services, Participant, ana.id).prompt == "step1_emotions"


def test_keyword_inside_a_sentence_is_ordinary_text(app, services, ana, text):
    text("YES")
    assert text("please don't stop, I want to help") == ["ack_statement", "step1_emotions"]
    assert get(services, Participant, ana.id).status == "active"


# Odd input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "x" * 1600,
        "🙏🏽💔 我们需要谈谈 — نحن بحاجة إلى التحدث",
        "<script>alert(1)</script>",
        "'; DROP TABLE message; --",
        "",
        "   ",
        "\x00 nul byte",
    ],
)
def test_odd_text_is_stored_verbatim_and_answered_kindly(app, services, ana, text, body):
    text("YES")
    sent = text(body)
    [stored] = [m for m in inbound(services) if m.body.replace("\ufffd", "\x00") == body]
    assert stored.status == "processed"
    if body.strip() and body != "\x00 nul byte":
        assert sent == ["ack_statement", "step1_emotions"]


def test_mms_keeps_media_and_says_only_text_is_read(app, services, ana, text):
    text("YES")
    sent = text(
        "",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/m/ME1",
        MediaUrl1="https://api.twilio.com/m/ME2",
    )
    assert sent == ["media_not_read"]
    stored = inbound(services)[-1]
    assert stored.media_urls == ["https://api.twilio.com/m/ME1", "https://api.twilio.com/m/ME2"]


form_values = st.one_of(
    st.text(max_size=200), st.sampled_from([ANA, PROGRAM_NUMBER, "STOP", "YES", "1", "-1", "99"])
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    form=st.dictionaries(
        st.sampled_from(
            [
                "MessageSid",
                "From",
                "To",
                "Body",
                "NumMedia",
                "MediaUrl0",
                "MessagingServiceSid",
                "X",
            ]
        )
        | st.text(max_size=20),
        form_values,
        max_size=8,
    )
)
def test_arbitrary_signed_forms_never_get_a_5xx(app, services, twilio_post, run_jobs, form):
    response = twilio_post("/twilio/sms", form)
    assert response.status_code < 500
    run_jobs()
    with services.sessions() as session:
        failed = session.exec(
            select(Message).where(Message.direction == "in", Message.status == "received")
        ).all()
        assert failed == []  # every stored text was processed


# Delivery status ----------------------------------------------------------------------


@pytest.fixture
def sent_message(services, ana, run_jobs):
    return mark_sent(services)


def status(twilio_post, sid_, value, code=None):
    form = {"MessageSid": sid_, "MessageStatus": value}
    if code is not None:
        form["ErrorCode"] = str(code)
    response = twilio_post("/twilio/sms/status", form)
    assert response.status_code == 204


def test_status_only_moves_forward(app, services, sent_message, twilio_post):
    sid_ = sent_message.twilio_sid
    for value in ["sent", "queued", "delivered", "sent", "delivered", "queued"]:
        status(twilio_post, sid_, value)
    assert get(services, Message, sent_message.id).status == "delivered"


def test_out_of_order_failure_keeps_its_error_code(app, services, sent_message, twilio_post):
    sid_ = sent_message.twilio_sid
    status(twilio_post, sid_, "undelivered", 30003)
    status(twilio_post, sid_, "sent")
    message = get(services, Message, sent_message.id)
    assert message.status == "undelivered" and message.error_code == 30003


def test_unknown_sid_and_junk_status_are_harmless(app, services, sent_message, twilio_post):
    status(twilio_post, "SMnope", "delivered")
    status(twilio_post, sent_message.twilio_sid, "banana", "x")
    assert get(services, Message, sent_message.id).status == "queued"


@pytest.mark.parametrize(
    "code,participant_status",
    [
        (21610, "opted_out"),
        (30004, "undeliverable"),
        (30006, "undeliverable"),
        (30007, "undeliverable"),
        (30008, "invited"),
    ],
)
def test_delivery_errors_flag_the_participant(
    app, services, ana, sent_message, twilio_post, code, participant_status
):
    status(twilio_post, sent_message.twilio_sid, "failed", code)
    assert get(services, Participant, ana.id).status == participant_status
