"""Logs never hold a full phone number, a message body or a recording/media URL.

A capturing handler on the root logger records everything at DEBUG (our code, the twilio
client's own logger, urllib3, RQ, the local Twilio API) while a participant texts, replies
go out through the real twilio client, a status callback arrives and a recording is
fetched. `redact` itself is checked on examples.
"""

from __future__ import annotations

import itertools
import logging
import re

import pytest
import sqlalchemy as sa
from twilio.http.http_client import TwilioHttpClient

from service.infra.logs import RedactingFilter, install_redaction, redact
from service.models import Message
from tests.support.factories import (
    ANA,
    PROGRAM_NUMBER,
    inbound,
    make_participant,
    make_program,
    outbound,
    sms_form,
)
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, local_gateway, with_local_twilio


@pytest.fixture
def gateway(local_twilio):
    """This module's texts and calls go to the local Twilio API."""
    return local_gateway(local_twilio)


_sids = itertools.count(1)
MEDIA_URL = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/"
    f"MM{'1' * 32}/Media/ME{'2' * 32}"
)


class Capture(logging.Handler):
    """Keeps each record as a handler would write it (message, then any traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.names.add(record.name)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def settings(settings, local_twilio):
    """Twilio credentials set, so sends go through the real client with status callbacks."""
    return with_local_twilio(settings, local_twilio)


@pytest.fixture
def captured(app):
    """A root handler added the way an operator's logging setup would, then redaction on."""
    root = logging.getLogger()
    level = root.level
    handler = Capture()
    root.addHandler(handler)
    install_redaction("DEBUG")  # what create_app does with LOG_LEVEL=DEBUG
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def masked(number: str) -> str:
    """What redact() leaves of a number: its last two digits (and a leading + or %2B)."""
    prefix = next((p for p in ("%2B", "+") if number.startswith(p)), "")
    return prefix + "•" * (len(number) - len(prefix) - 2) + number[-2:]


def national(number: str) -> str:
    """'+12015550123' → '2015550123': catches the number in any encoding or format."""
    return number[2:]


def assert_clean(text: str, bodies: list[str]) -> None:
    for number in (ANA, PROGRAM_NUMBER):
        assert national(number) not in text, f"full number {number} in the logs"
    for body in bodies:
        assert body not in text, f"message body in the logs: {body!r}"
        assert body[:24] not in text, f"start of a message body in the logs: {body[:24]!r}"
    assert "/Media/" not in text and "Recordings/RE" not in text, "a media/recording URL"
    assert not re.search(r"https?://\S+\?\S*=", text), "a URL with its query string"


def test_a_conversation_and_real_sends_log_nothing_sensitive(
    services, captured, twilio_post, run_jobs, local_twilio, clock
):
    program = make_program(services)
    ana = make_participant(services, program)
    run_jobs()  # the invitation, through the twilio client to the local API

    texts = [
        ("Yes", {}),
        ("I missed the investor meeting we had planned for weeks.", {}),
        ("Here is the photo of the agenda", {"NumMedia": "1", "MediaUrl0": MEDIA_URL}),
        ("STATUS", {}),
    ]
    for body, extra in texts:
        form = sms_form(body, sid=f"SM{next(_sids):032x}", **extra)
        assert twilio_post("/twilio/sms", form).status_code == 200
        run_jobs()
    sent = local_twilio.messages()
    assert len(sent) >= 5  # invitation, consent thanks, prompts, acks, the MMS note…

    # A delivery status callback, a lookup by number (how unknown outcomes are settled),
    # and a recording download.
    status = {
        "MessageSid": sent[0]["sid"],
        "MessageStatus": "delivered",
        "To": ANA,
        "From": PROGRAM_NUMBER,
        "AccountSid": ACCOUNT_SID,
    }
    assert twilio_post("/twilio/sms/status", status).status_code == 204
    assert services.gateway.find_sent_message(ANA, from_=PROGRAM_NUMBER) is not None
    recording = local_twilio.add_recording()
    assert services.gateway.fetch_recording(recording)[:4] == b"RIFF"

    bodies = [m.body for m in outbound(services, ana.id)] + [m.body for m in inbound(services)]
    bodies = [b for b in bodies if len(b) > 8]  # "Yes" and "STATUS" are not secrets
    assert len(bodies) >= 6
    text = captured.text
    assert_clean(text, bodies)

    # The handler really saw the traffic: our own lines, the HTTP client's, the worker's.
    assert {
        "service.messaging.delivery",
        "service.messaging.inbound",
        "service.infra.twilio_gateway",
        "urllib3.connectionpool",
    } <= (captured.names)
    assert "rq.worker" in captured.names
    assert "•" * 9 + ANA[-2:] in text  # masked, not dropped


def test_the_twilio_clients_own_logger_is_redacted(captured, local_twilio):
    """twilio's TwilioHttpClient logs the URL and query parameters (numbers) at INFO."""
    client = TwilioHttpClient(timeout=5)
    url = f"{local_twilio.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    response = client.request(
        "GET", url, params={"To": ANA, "From": PROGRAM_NUMBER}, auth=(ACCOUNT_SID, AUTH_TOKEN)
    )
    assert response.status_code == 200
    assert "twilio.http_client" in captured.names
    assert any("Query Params" in line for line in captured.lines)
    assert_clean(captured.text, [])


def test_a_logged_traceback_is_redacted_too(captured):
    """An exception whose message carries a number must not leak through its traceback."""
    log = logging.getLogger("service.example")
    try:
        raise ValueError(f"The 'To' number {ANA} is not a valid phone number.")
    except ValueError:
        log.exception("sending failed")
    try:
        raise RuntimeError(f"fetching {MEDIA_URL}")
    except RuntimeError as exc:
        log.warning("download failed: %s", type(exc).__name__, exc_info=True)
    assert "sending failed" in captured.text and "Traceback" in captured.text
    assert_clean(captured.text, [])


def test_a_database_error_in_the_logs_holds_no_values(services, captured):
    """A failed INSERT's exception names neither the number nor the text it carried."""
    secret = "I never told anyone about the loan from my sister."

    def store() -> None:
        with services.sessions() as session:
            session.add(
                Message(direction="in", twilio_sid="SM" + "d" * 32, from_number=ANA, body=secret)
            )
            session.commit()

    store()
    with pytest.raises(sa.exc.IntegrityError) as failed:
        store()
    logging.getLogger("service.example").error("store failed", exc_info=failed.value)
    assert "IntegrityError" in captured.text
    assert secret not in str(failed.value) and national(ANA) not in str(failed.value)
    assert_clean(captured.text, [secret])


def test_the_filter_covers_records_with_args_and_bad_formats(captured):
    log = logging.getLogger("service.example")
    log.info("to %s from %s", ANA, PROGRAM_NUMBER)
    log.info("broken %d format", ANA)  # a format error must neither raise nor leak
    assert len(captured.lines) == 2
    assert_clean(captured.text, [])


# redact() on examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("sent to +12015550123", f"sent to {masked('+12015550123')}"),
        (
            "To=%2B12015550123&From=%2B12015550100",
            f"To={masked('%2B12015550123')}&From={masked('%2B12015550100')}",
        ),
        ("number 12015550123 unknown", f"number {masked('12015550123')} unknown"),
        ("national 2015550123", f"national {masked('2015550123')}"),
        ("+447911123456.", f"{masked('+447911123456')}."),
        (
            f"GET https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'a' * 32}",
            "GET https://api.twilio.com/…",
        ),
        (
            f"POST https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json 201",
            "POST https://api.twilio.com/… 201",
        ),
        (f"media {MEDIA_URL} kept", "media https://api.twilio.com/… kept"),
        (
            "callback https://realign.example.org/twilio/sms/status?To=%2B12015550123 ok",
            "callback https://realign.example.org/twilio/sms/status?… ok",
        ),
        ("see http://localhost:5000/admin/?page=2", "see http://localhost:5000/admin/?…"),
        (  # urllib3's request line: the path without scheme or host
            f'http://127.0.0.1:8099 "GET /2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/'
            f'RE{"b" * 32}.wav HTTP/1.1" 200 80044',
            'http://127.0.0.1:8099 "GET /… HTTP/1.1" 200 80044',
        ),
    ],
)
def test_redact_masks(line, expected):
    assert redact(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "2026-03-03 15:00:00,123 INFO service.outbox sent message 42 to someone (queued)",
        "2026-03-03T15:00:00+00:00 tick created=3 nudged=0 missed=1",
        "job 3f2a9c1e-5b7d-4e21-9a0b-77c1d2e3f405 took 0:00:00.294597s",
        f"sid SM{'0' * 31}1 account {ACCOUNT_SID} status delivered",
        "participant 123456 at port 6379, 123456789 bytes, 1.5 ms, version 3.0.0",
        "http://127.0.0.1:6379/0 answered",
        "error 21610 after 6 attempts, backoff 600 s",
        'File "/work/main/service/outbox.py", line 224, in deliver',
        "GET /admin/participant/details/?id=12 200",
    ],
)
def test_redact_keeps_ordinary_numbers(line):
    assert redact(line) == line


def test_install_redaction_is_idempotent_and_covers_existing_handlers():
    root = logging.getLogger()
    level = root.level
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        install_redaction("INFO")
        install_redaction("INFO")
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        assert root.level == logging.INFO
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
