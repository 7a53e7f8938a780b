"""The OpenAPI document the API serves: valid OpenAPI 3.1, made from the models that
serialise the answers, and true of every endpoint's real answers; and a fuzz of every list's
query parameters that never finds a 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core.validation.response.exceptions import InvalidData
from openapi_spec_validator import validate
from werkzeug.test import TestResponse

from service.app import create_app
from service.models import Reflection
from tests.support.admin import WAV
from tests.support.admin_walk import add_ben_records
from tests.support.api import api_get, conforms, token_for


def endpoint_of(app, response) -> str:
    return app.url_map.bind("localhost").match(response.request.path)[0]


LISTS = ("programs", "participants", "checkins", "attention")


@pytest.fixture
def roomy(admin_app, world):
    """The app with a limit the fuzz cannot reach (the limit has its own test)."""
    services = admin_app.extensions["realign"]
    settings_ = services.settings.model_copy(update={"api_rate_limit": "100000/minute"})
    return create_app(settings_, engine=services.engine, redis=services.redis, clock=services.clock)


def test_the_document_is_valid_openapi_3_1(admin_app):
    document = admin_app.test_client().get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.json
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert operations == {
        "list_programs", "get_program", "list_participants", "get_participant",
        "recording_audio", "list_checkins", "list_attention",
    }  # fmt: skip
    # The participant's schema is the model's: every field the API sends is declared.
    detail = spec["components"]["schemas"]["ParticipantDetail"]
    assert {"statements", "reflections", "commitments", "checkins", "messages"} <= set(
        detail["properties"]
    )
    assert detail["additionalProperties"] is False


def test_every_endpoints_real_answers_match_the_document(roomy, world, tmp_path):
    ben = add_ben_records(roomy, world)
    audio = tmp_path / "a.wav"
    audio.write_bytes(WAV)
    services = roomy.extensions["realign"]
    with services.sessions() as s:
        s.get(Reflection, ben.reflection).storage_path = str(audio)
        s.commit()
    client = roomy.test_client()
    token = token_for(roomy, world.admin, phones=True)
    seen = set()
    for path in (
        "programs", f"programs/{ben.program}", "participants?limit=1",
        f"participants/{ben.participant}", f"checkins?program={ben.program}&result=kept",
        "attention?state=all", "checkins?due_from=2020-01-01&due_to=2100-01-01",
    ):  # fmt: skip
        answer = api_get(client, path, token)  # api_get validates against the document
        assert answer.status_code == 200, (path, answer.text)
        seen.add(endpoint_of(roomy, answer))
        if "ETag" in answer.headers:
            again = api_get(client, path, token, **{"If-None-Match": answer.headers["ETag"]})
            assert again.status_code == 304
    detail = api_get(client, f"participants/{ben.participant}", token).json
    [reflection] = detail["reflections"]
    heard = client.get(reflection["audio_url"])
    assert heard.status_code == 200
    conforms(client, heard)
    seen.add(endpoint_of(roomy, heard))
    for path, code in (("participants?limit=0", 400), ("participants/0", 404)):
        assert api_get(client, path, token).status_code == code
    assert api_get(client, "programs", None).status_code == 401
    assert seen == {
        "api.list_programs", "api.get_program", "api.list_participants",
        "api.get_participant", "api.list_checkins", "api.list_attention", "api.recording_audio",
    }  # fmt: skip
    assert detail["statements"] and detail["commitments"] and detail["checkins"]
    assert detail["messages"] and detail["checkins"][0]["results"][0]["result"] == "kept"


def test_an_answer_unlike_the_document_is_caught(admin_app, world):
    client = admin_app.test_client()
    good = api_get(client, "programs", token_for(admin_app, world.ana))
    body = good.json
    body["data"][0]["surprise"] = 1
    bad = TestResponse(
        json.dumps(body), status=200, headers={"Content-Type": "application/json"},
        request=good.request,
    )  # fmt: skip
    with pytest.raises(InvalidData):
        conforms(client, bad)


PARAMETERS = {
    "programs": ["limit", "cursor"],
    "participants": ["limit", "cursor", "program", "step", "status", "updated_since"],
    "checkins": [
        "limit",
        "cursor",
        "program",
        "participant",
        "due_from",
        "due_to",
        "status",
        "result",
    ],  # fmt: skip
    "attention": ["limit", "cursor", "program", "participant", "state"],
}
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "500",
            "501",
            "active",
            "kept",
            "open",
            "all",
            "\x00",
            "2026-03-03",
            "2026-03-03T10:00:00+14:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-12:00",
            "YWZ0ZXI6MQ",
            "YWZ0ZXI6OTk5OTk5OTk5OTk5",
            "1e400",
            "nan",
            "%",
            "' OR 1=1 --",
        ]
    ),  # fmt: skip
)


@pytest.mark.parametrize("endpoint", LISTS)
def test_fuzzed_query_parameters_never_get_a_5xx(roomy, world, endpoint):
    add_ben_records(roomy, world)
    client = roomy.test_client()
    token = token_for(roomy, world.ana)
    names = st.one_of(st.sampled_from(PARAMETERS[endpoint]), st.text(min_size=1, max_size=8))
    statuses = []

    @settings(
        max_examples=120, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    @given(st.dictionaries(names, VALUES, max_size=4))
    def check(query):
        answer = client.get(
            f"/api/v1/{endpoint}", query_string=query, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code < 500, (query, answer.text)
        assert answer.status_code in (200, 400), (query, answer.status_code)
        conforms(client, answer)
        assert "BEN-SECRET" not in answer.text
        statuses.append(answer.status_code)

    check()
    assert 200 in statuses and 400 in statuses  # the fuzz reached both answers
