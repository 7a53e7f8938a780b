"""The read API: tokens (CLI and admin), 401s, what a facilitator's token reaches, pages,
ETags and the signed audio link, through the app's own doors on a real database and Redis."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from service.models import ApiToken, AuditEvent, Facilitator, Participant, Reflection
from tests.e2e.test_cli import cli_env, ok, realign  # noqa: F401  (fixtures)
from tests.support.admin import WAV
from tests.support.admin_walk import add_ben_records, login
from tests.support.admin_walk import token_for as csrf_for
from tests.support.api import api_get, token_for


def test_a_token_made_on_the_command_line_reads_until_it_is_revoked(app, realign):  # noqa: F811
    ok(
        realign(
            "create-facilitator", "--email", "dana@example.org", "--name", "Dana",
            input="a-long-password-1\na-long-password-1\n",
        )
    )  # fmt: skip
    out = ok(realign("api-token", "create", "--email", "dana@example.org", "--name", "CRM"))
    token = out.strip().splitlines()[-1]
    assert re.fullmatch(r"rlg_[A-Za-z0-9_-]{40,}", token)
    services = app.extensions["realign"]
    with services.sessions() as s:
        [row] = s.scalars(sa.select(ApiToken)).all()
        assert row.name == "CRM" and token not in (row.token_hash, row.prefix)
        assert token.startswith(row.prefix)
    client = app.test_client()
    answer = api_get(client, "programs", token)
    assert answer.status_code == 200 and answer.json == {"data": [], "next": None}

    listed = ok(realign("api-token", "list", "--email", "dana@example.org"))
    assert "CRM" in listed and "live" in listed and token not in listed
    ok(realign("api-token", "revoke", "--email", "dana@example.org", str(row.id)))
    refused = api_get(client, "programs", token)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"


def test_without_a_good_token_every_route_is_401_json(admin_app, world):
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)
    for path in ("programs", "participants", f"participants/{world.ana_participant}",
                 "checkins", "attention", f"programs/{world.ana_program}"):  # fmt: skip
        for header in (None, "Bearer", "Basic abc", f"Bearer {token}x", "Bearer rlg_nope"):
            headers = {} if header is None else {"Authorization": header}
            answer = client.get(f"/api/v1/{path}", headers=headers)
            assert answer.status_code == 401, (path, header)
            assert answer.is_json and answer.json["error"]["code"] == "unauthorized"
            assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert api_get(client, path, token).status_code == 200
    # A deactivated facilitator's tokens stop at once.
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.get(Facilitator, world.ana).is_active = False
        s.commit()
    assert api_get(client, "programs", token).status_code == 401


def test_a_facilitator_makes_lists_and_revokes_their_own_tokens_in_the_admin(admin_app, world):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get("/admin/api-tokens/")
    assert page.status_code == 200 and 'id="no-tokens"' in page.text
    made = client.post(
        "/admin/api-tokens/new",
        data={"name": "Research export", "phones": "1", "csrf_token": csrf_for(client)},
    )
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="token-value"[^>]*>(rlg_[^<]+)<', made.text).group(1)
    # Shown once: the list afterwards shows its start only.
    listing = client.get("/admin/api-tokens/").text
    assert "Research export" in listing and token not in listing and token[:12] in listing
    api = admin_app.test_client()
    assert api_get(api, "programs", token).status_code == 200

    # Ben sees none of Ana's tokens and cannot revoke them.
    ben = admin_app.test_client()
    login(ben, "ben@example.org")
    assert "Research export" not in ben.get("/admin/api-tokens/").text
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        token_id = s.scalars(sa.select(ApiToken.id)).one()
    refused = ben.post(
        "/admin/api-tokens/revoke", data={"id": token_id, "csrf_token": csrf_for(ben)}
    )
    assert refused.status_code == 404
    assert api_get(api, "programs", token).status_code == 200

    # A name is needed; nothing is made without one.
    blank = client.post("/admin/api-tokens/new", data={"name": " ", "csrf_token": csrf_for(client)})
    assert blank.status_code == 400 and "give the token a name" in blank.text

    revoked = client.post(
        "/admin/api-tokens/revoke", data={"id": token_id, "csrf_token": csrf_for(client)}
    )
    assert revoked.status_code == 302
    assert "Revoked" in client.get("/admin/api-tokens/").text
    assert api_get(api, "programs", token).status_code == 401


def test_a_token_reaches_none_of_another_facilitators_records(admin_app, world):
    ben = add_ben_records(admin_app, world)
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)

    def everything(path):
        rows, url = [], f"/api/v1/{path}"
        while url:
            answer = api_get(client, url, token)
            assert answer.status_code == 200, (url, answer.text)
            rows += answer.json["data"]
            url = answer.json["next"]
        return rows

    programs = {p["id"] for p in everything("programs?limit=1")}
    assert programs == {world.ana_program, world.shared_program}
    people = {p["id"] for p in everything("participants?limit=1")}
    assert people == {world.ana_participant, world.shared_participant}
    assert everything("checkins") == [] and everything("attention") == []
    # By filter: Ben's program or participant gives an empty list, not his rows.
    assert everything(f"participants?program={ben.program}") == []
    assert everything(f"checkins?program={ben.program}") == []
    assert everything(f"checkins?participant={ben.participant}") == []
    assert everything(f"attention?participant={ben.participant}") == []
    # By id: 404, exactly as for an id that does not exist.
    for path in (f"participants/{ben.participant}", f"programs/{ben.program}"):
        answer = api_get(client, path, token)
        assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"
    assert (
        api_get(client, "participants/99999", token).json
        == api_get(client, f"participants/{ben.participant}", token).json
    )
    # By cursor: a cursor made up to start just before Ben's rows still reads only Ana's.
    from service.core import cursors

    for path in ("participants", "checkins", "attention", "programs"):
        answer = api_get(client, f"{path}?cursor={cursors.encode(0)}", token)
        assert "BEN-SECRET" not in answer.text
    # The admin's token sees everything.
    boss = token_for(admin_app, world.admin)
    all_people = api_get(client, "participants", boss).json["data"]
    assert {p["id"] for p in all_people} >= {ben.participant, world.ana_participant}
    assert "BEN-SECRET" in api_get(client, f"participants/{ben.participant}", boss).text


def test_pages_are_stable_while_rows_are_added(admin_app, world):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.add_all(
            Participant(program_id=world.ana_program, name=f"P{n}", phone=f"+1201555{n:04d}")
            for n in range(1000, 1025)
        )
        s.commit()
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)
    seen, url, added = [], "/api/v1/participants?limit=7", 0
    while url:
        answer = api_get(client, url, token)
        seen += [p["id"] for p in answer.json["data"]]
        url = answer.json["next"]
        if url and added < 3:  # someone is enrolled between two pages
            with services.sessions() as s:
                s.add(
                    Participant(
                        program_id=world.ana_program, name="New", phone=f"+120155590{added:02d}"
                    )
                )
                s.commit()
            added += 1
    assert len(seen) == len(set(seen)) == 27 + 3  # every row once: none skipped, none twice
    assert seen == sorted(seen)


def test_a_participant_answers_with_an_etag_and_304_when_unchanged(admin_app, world):
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)
    path = f"participants/{world.ana_participant}"
    first = api_get(client, path, token)
    assert first.status_code == 200 and first.headers["ETag"]
    again = api_get(client, path, token, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.get(Participant, world.ana_participant).name = "Ari Renamed"
        s.commit()
    changed = api_get(client, path, token, **{"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["name"] == "Ari Renamed"
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_phone_numbers_are_masked_unless_the_token_may_read_them(admin_app, world):
    client = admin_app.test_client()
    masked = api_get(
        client, f"participants/{world.ana_participant}", token_for(admin_app, world.ana)
    )
    assert masked.json["phone"] == "+•••••••••11"
    full = api_get(
        client,
        f"participants/{world.ana_participant}",
        token_for(admin_app, world.ana, phones=True),
    )
    assert full.json["phone"] == "+12015550111"


def test_times_are_utc_with_the_participants_local_time(admin_app, world):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.get(Participant, world.ana_participant).timezone = "America/New_York"
        s.commit()
    client = admin_app.test_client()
    body = api_get(
        client, f"participants/{world.ana_participant}", token_for(admin_app, world.ana)
    ).json
    utc, local = body["created_at"]["utc"], body["created_at"]["local"]
    assert utc.endswith("Z") and re.search(r"-0[45]:00$", local)


def test_updated_since_finds_only_those_changed(admin_app, world, admin_clock):
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        mark = s.get(Participant, world.ana_participant).updated_at + timedelta(seconds=1)
    import time

    time.sleep(1.1)
    with services.sessions() as s:
        s.get(Participant, world.shared_participant).step = 2
        s.commit()
    since = mark.isoformat().replace("+00:00", "Z")
    found = api_get(client, "participants", token, **{}).json["data"]
    assert len(found) == 2
    changed = client.get(
        "/api/v1/participants", query_string={"updated_since": since},
        headers={"Authorization": f"Bearer {token}"},
    ).json["data"]  # fmt: skip
    assert [p["id"] for p in changed] == [world.shared_participant]
    by_step = api_get(client, "participants?step=2&status=active", token).json["data"]
    assert [p["id"] for p in by_step] == [world.shared_participant]


def test_a_reflection_has_a_short_lived_signed_audio_link(admin_app, world, tmp_path, admin_clock):
    audio = tmp_path / "r.wav"
    audio.write_bytes(WAV)
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        r = Reflection(participant_id=world.ana_participant, storage_path=str(audio), duration_s=9)
        s.add(r)
        s.commit()
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)
    body = api_get(client, f"participants/{world.ana_participant}", token).json
    [reflection] = body["reflections"]
    link = reflection["audio_url"]
    assert "/api/v1/recordings/" in link and reflection["duration_s"] == 9
    heard = client.get(link)  # no Authorization header: the link is its own key
    assert heard.status_code == 200 and heard.data == WAV
    assert heard.headers["Content-Type"] == "audio/wav"
    tampered = client.get(link.replace(f"recordings/{reflection['id']}/", "recordings/999/"))
    assert tampered.status_code == 401
    admin_clock.advance(minutes=11)
    assert client.get(link).status_code == 401  # expired
    with services.sessions() as s:
        heard_lines = s.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "open_recording")
        ).all()
    assert len(heard_lines) == 1


def test_each_api_request_is_one_audit_line_without_participant_data(admin_app, world):
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)
    api_get(client, f"participants/{world.ana_participant}", token)
    api_get(client, f"participants?program={world.ana_program}", token)
    api_get(client, "participants/424242", token)
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        lines = s.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "api.read").order_by(AuditEvent.id)
        ).all()
    assert [(e.actor, e.detail["route"], e.detail["status"]) for e in lines] == [
        (f"facilitator:{world.ana}", "/api/v1/participants/<int:participant_id>", 200),
        (f"facilitator:{world.ana}", "/api/v1/participants", 200),
        (f"facilitator:{world.ana}", "/api/v1/participants/<int:participant_id>", 404),
    ]
    text = repr([(e.actor, e.action, e.entity, e.detail) for e in lines])
    assert "Ari" not in text and "555" not in text


def test_bad_queries_get_400_json_naming_the_parameter(admin_app, world):
    client = admin_app.test_client()
    token = token_for(admin_app, world.ana)
    for query, field in (
        ("limit=501", "limit"), ("limit=0", "limit"), ("limit=x", "limit"),
        ("cursor=abc", "cursor"), ("step=6", "step"), ("status=asleep", "status"),
        ("updated_since=yesterday", "updated_since"), ("colour=blue", "colour"),
        ("program=99999999999", "program"),
    ):  # fmt: skip
        answer = api_get(client, f"participants?{query}", token)
        assert answer.status_code == 400, query
        assert (
            answer.json["error"]["code"] == "bad_request"
            and field in answer.json["error"]["fields"]
        )
    assert api_get(client, "participants?limit=500", token).status_code == 200
    assert api_get(client, "participants/99999999999", token).status_code == 404
    assert api_get(client, "nowhere", token, check=False).status_code == 404
    posted = client.post("/api/v1/participants", headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 405 and posted.is_json


def test_each_token_has_its_own_rate_limit_with_retry_after(admin_app, world):
    from service.app import create_app

    services = admin_app.extensions["realign"]
    settings = services.settings.model_copy(update={"api_rate_limit": "3/minute"})
    app = create_app(settings, engine=services.engine, redis=services.redis, clock=services.clock)
    client = app.test_client()
    ana, ben = token_for(app, world.ana), token_for(app, world.ben)
    assert [api_get(client, "programs", ana).status_code for _ in range(3)] == [200] * 3
    limited = api_get(client, "programs", ana)
    assert limited.status_code == 429 and limited.is_json
    assert limited.json["error"]["code"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert api_get(client, "programs", ben).status_code == 200  # another token: its own count
    # The count is kept in Redis, so every web process shares it.
    other = create_app(settings, engine=services.engine, redis=services.redis, clock=services.clock)
    assert api_get(other.test_client(), "programs", ana).status_code == 429


def test_with_redis_away_the_api_still_answers(admin_app, world, dead_redis):
    from service.app import create_app

    services = admin_app.extensions["realign"]
    app = create_app(services.settings, engine=services.engine, redis=dead_redis)
    client = app.test_client()
    answer = api_get(client, "participants", token_for(app, world.ana))
    assert answer.status_code == 200 and len(answer.json["data"]) == 2
