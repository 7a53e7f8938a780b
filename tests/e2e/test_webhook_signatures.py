"""Webhook signatures under a SharedKey (HMAC-SHA256), next to the legacy auth-token ones."""

from __future__ import annotations

import itertools

import pytest
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator

from service.models import Message
from tests.support.factories import (
    get,
    inbound,
    make_participant,
    make_program,
    mark_sent,
    sms_form,
)

SHA256 = "HMAC_SHA256"
SECRETS = {"kid1": "secret-one", "kid2": "secret-two"}

_sids = itertools.count(1)


def post_hello(post, header, secret, algorithm):
    """A new text, "hello", signed as told."""
    return post(
        "/twilio/sms",
        sms_form("hello", sid=sid()),
        header=header,
        secret=secret,
        algorithm=algorithm,
    )


def sid() -> str:
    return f"SM{next(_sids):032x}"


@pytest.fixture
def shared_keys():
    """TWILIO_WEBHOOK_SHARED_KEYS; parametrize a test on it to change it."""
    return ",".join(f"{key_id}={secret}" for key_id, secret in SECRETS.items())


@pytest.fixture
def settings(settings, shared_keys):
    return settings.model_copy(update={"twilio_webhook_shared_keys": shared_keys})


@pytest.fixture
def post(services, client):
    """POST a form with the given settings header (None: no header), signed with `secret`
    (default: the auth token) under `algorithm` (default: legacy HMAC-SHA1)."""
    base = services.settings.public_base_url

    def send(path, form, *, header=None, secret=None, algorithm=None):
        signature = RequestValidator(secret or services.webhook_token).compute_signature(
            base + path, form, algorithm=algorithm
        )
        headers = {"X-Twilio-Signature": signature}
        if header is not None:
            headers[SIGNATURE_SETTINGS_HEADER] = header
        return client.post(path, data=form, headers=headers, base_url=base)

    return send


def settings_header(key_id: str, algorithm: str = SHA256) -> str:
    return f"key={key_id},algorithm={algorithm}"


def assert_refused(response, services, redis_conn):
    assert response.status_code == 403
    assert inbound(services) == []
    assert redis_conn.llen("rq:queue:default") == 0


# Accepted -----------------------------------------------------------------------------


def test_sha256_signature_under_a_configured_key_is_accepted_and_stored(
    app, services, post, redis_conn
):
    response = post(
        "/twilio/sms",
        sms_form("hello", sid=sid()),
        header=settings_header("kid1"),
        secret="secret-one",
        algorithm=SHA256,
    )
    assert response.status_code == 200
    assert [m.body for m in inbound(services)] == ["hello"]
    assert redis_conn.llen("rq:queue:turns") == 1  # its turn queued


def test_every_key_configured_for_rotation_is_accepted(app, services, post):
    for key_id, secret in SECRETS.items():
        response = post(
            "/twilio/sms",
            sms_form(f"via {key_id}", sid=sid()),
            header=settings_header(key_id),
            secret=secret,
            algorithm=SHA256,
        )
        assert response.status_code == 200, key_id
    assert [m.body for m in inbound(services)] == ["via kid1", "via kid2"]


def test_header_is_parsed_as_leniently_as_the_library_parses_it(app, services, post):
    response = post(
        "/twilio/sms",
        sms_form("hello", sid=sid()),
        header=" algorithm = hmac_sha256 , key = kid2 ",
        secret="secret-two",
        algorithm=SHA256,
    )
    assert response.status_code == 200
    assert len(inbound(services)) == 1


# Refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "secret", "algorithm"),
    [
        pytest.param(settings_header("kid3"), "secret-one", SHA256, id="unknown_key_id"),
        pytest.param(settings_header("kid1"), "secret-two", SHA256, id="wrong_secret"),
        pytest.param(settings_header("kid1"), None, None, id="sha1_auth_token"),
        pytest.param(settings_header("kid1"), None, SHA256, id="sha256_auth_token"),
        pytest.param(settings_header("kid1"), "secret-one", None, id="sha1_shared_key"),
        pytest.param(None, "secret-one", SHA256, id="no_header_sha256_shared_key"),
    ],
)
def test_wrong_key_secret_or_algorithm_is_refused_and_nothing_is_stored(
    app, services, post, redis_conn, header, secret, algorithm
):
    assert_refused(post_hello(post, header, secret, algorithm), services, redis_conn)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "key=,algorithm=",
        "algorithm=MD5",
        "algorithm=HMAC_SHA256",
        "key=kid1,algorithm=MD5",
        "key=kid1,algorithm=HMAC_SHA512",
        "key=kid1;algorithm=HMAC_SHA256",
        "key=kid1=x,algorithm=HMAC_SHA256",
        "=,=,,",
    ],
)
@pytest.mark.parametrize(
    ("secret", "algorithm"),
    [("secret-one", SHA256), (None, None)],
    ids=["sha256_shared_key", "sha1_auth_token"],
)
def test_malformed_header_is_refused_not_an_error(
    app, services, post, redis_conn, header, secret, algorithm
):
    assert_refused(post_hello(post, header, secret, algorithm), services, redis_conn)


# Legacy -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, ""], ids=["no_header", "blank_header"])
def test_without_the_header_the_auth_token_sha1_signature_still_works(app, services, post, header):
    response = post("/twilio/sms", sms_form("hello", sid=sid()), header=header)
    assert response.status_code == 200
    assert len(inbound(services)) == 1


@pytest.mark.parametrize("shared_keys", [""])
def test_without_shared_keys_configured_a_sha256_header_is_refused(app, services, post, redis_conn):
    assert services.settings.webhook_shared_keys == {}
    for secret in ("secret-one", services.webhook_token):
        response = post(
            "/twilio/sms",
            sms_form("hello", sid=sid()),
            header=settings_header("kid1"),
            secret=secret,
            algorithm=SHA256,
        )
        assert_refused(response, services, redis_conn)
    # The legacy scheme is untouched.
    assert post("/twilio/sms", sms_form("hello", sid=sid())).status_code == 200
    assert len(inbound(services)) == 1


# Other webhooks -----------------------------------------------------------------------


@pytest.fixture
def sent_message(services, run_jobs):
    make_participant(services, make_program(services))
    run_jobs()
    return mark_sent(services)


@pytest.mark.parametrize(
    ("key_id", "secret", "code", "status"),
    [
        ("kid2", "secret-two", 204, "delivered"),
        ("kid3", "secret-two", 403, "queued"),
        ("kid1", "secret-two", 403, "queued"),
    ],
    ids=["accepted", "unknown_key_id", "wrong_secret"],
)
def test_delivery_status_callback_checks_the_shared_key_too(
    app, services, post, sent_message, key_id, secret, code, status
):
    response = post(
        "/twilio/sms/status",
        {"MessageSid": sent_message.twilio_sid, "MessageStatus": "delivered"},
        header=settings_header(key_id),
        secret=secret,
        algorithm=SHA256,
    )
    assert response.status_code == code
    assert get(services, Message, sent_message.id).status == status


@pytest.mark.parametrize(
    ("key_id", "code"), [("kid1", 204), ("kid3", 403)], ids=["accepted", "unknown_key_id"]
)
def test_call_status_callback_checks_the_shared_key_too(app, services, post, key_id, code):
    response = post(
        "/twilio/voice/status",
        {"CallSid": "CA" + "b" * 32, "CallStatus": "completed"},
        header=settings_header(key_id),
        secret="secret-one",
        algorithm=SHA256,
    )
    assert response.status_code == code
