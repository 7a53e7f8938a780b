"""Webhook bodies larger than Twilio sends are refused (413) before their form is parsed,
signed or not; the largest text Twilio does send is taken as always."""

from __future__ import annotations

import flask
import pytest
from twilio.request_validator import RequestValidator

from tests.support.factories import inbound, sms_form
from webhooks.limits import MAX_BODY_BYTES, MAX_FIELDS

URLENCODED = "application/x-www-form-urlencoded"
HUNDRED_THOUSAND = "&".join(f"p{i}=v" for i in range(100_000)).encode()


def webhook_paths(app) -> list[str]:
    return sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/twilio/"))


def form_was_parsed() -> bool:
    """Whether the request just answered had its form read (werkzeug caches it)."""
    return "form" in flask.request.__dict__


@pytest.fixture
def raw_post(services, client):
    base = services.settings.public_base_url

    def post(path, body: bytes, *, signature="not-a-signature", content_type=URLENCODED):
        return client.post(
            path,
            data=body,
            content_type=content_type,
            headers={"X-Twilio-Signature": signature},
            base_url=base,
        )

    return post


def signature_for(services, path, form) -> str:
    url = services.settings.public_base_url + path
    return RequestValidator(services.webhook_token).compute_signature(url, form)


def test_an_unsigned_post_of_100000_fields_is_refused_before_its_form_is_parsed(
    app, client, raw_post, services
):
    for path in webhook_paths(app):
        with client:
            response = raw_post(path, HUNDRED_THOUSAND)
            assert response.status_code == 413, path
            assert not form_was_parsed(), path
    assert inbound(services) == []


def test_a_small_body_of_too_many_fields_is_refused_unparsed_even_when_signed(
    client, raw_post, services
):
    form = {f"p{i}": "" for i in range(MAX_FIELDS + 1)}
    body = "&".join(f"{k}=" for k in form).encode()
    assert len(body) < MAX_BODY_BYTES
    with client:
        response = raw_post(
            "/twilio/sms", body, signature=signature_for(services, "/twilio/sms", form)
        )
        assert response.status_code == 413
        assert not form_was_parsed()
    assert inbound(services) == []


def test_a_signed_text_larger_than_twilio_sends_is_413(services, twilio_post):
    form = sms_form("x" * (MAX_BODY_BYTES + 1), sid="SM" + "b" * 32)
    response = twilio_post("/twilio/sms", form)
    assert response.status_code == 413
    assert inbound(services) == []


def test_a_multipart_body_of_many_parts_is_refused(raw_post):
    boundary = "realign"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="p{i}"\r\n\r\nv\r\n'
        for i in range(MAX_FIELDS + 5)
    )
    body = (parts + f"--{boundary}--\r\n").encode()
    assert len(body) < MAX_BODY_BYTES
    response = raw_post(
        "/twilio/sms", body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413


def test_the_largest_text_twilio_sends_is_taken(services, twilio_post):
    """1,600 four-byte characters (each %XX%XX%XX%XX when encoded) and 10 media URLs."""
    media = {
        f"MediaUrl{i}": f"https://api.twilio.com/2010-04-01/Media/ME{i:032d}" for i in range(10)
    }
    types = {f"MediaContentType{i}": "image/jpeg" for i in range(10)}
    form = sms_form("🙂" * 1600, sid="SM" + "c" * 32, NumMedia="10", **media, **types)
    response = twilio_post("/twilio/sms", form)
    assert response.status_code == 200
    [stored] = inbound(services)
    assert stored.body == "🙂" * 1600
    assert len(stored.media_urls) == 10
