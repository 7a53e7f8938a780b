"""CSRF: every admin form and action, posted without a token (or with a forged one), is
rejected with 400 and changes nothing, even for an admin who could otherwise do it all."""

from __future__ import annotations

import pytest

from tests.support.admin_walk import (
    add_ben_records,
    admin_rules,
    login,
    post_data,
    snapshot,
    url_for_rule,
)


@pytest.fixture
def ben(admin_app, world):
    return add_ben_records(admin_app, world)


def post_rules(app):
    return [r for r in admin_rules(app) if "POST" in r.methods]


@pytest.mark.parametrize("token", [None, "", "forged##token"])
def test_every_admin_post_without_a_valid_token_is_rejected(admin_app, ben, token):
    client = admin_app.test_client()
    login(client, "root@example.org")
    engine = admin_app.extensions["realign"].engine
    before = snapshot(engine, skip=())
    rules = post_rules(admin_app)
    assert len(rules) >= 25
    for rule in rules:
        url = url_for_rule(rule, ben)
        response = client.post(url, data=post_data(rule, ben, token))
        assert response.status_code == 400, (url, response.status_code)
    assert snapshot(engine, skip=()) == before
    assert client.get("/admin/").status_code == 200  # logout without a token did nothing


def test_sign_in_without_a_token_is_rejected(admin_app, world):
    client = admin_app.test_client()
    engine = admin_app.extensions["realign"].engine
    before = snapshot(engine, skip=())
    data = {"email": "ana@example.org", "password": "correct horse battery"}
    assert client.post("/admin/login", data=data).status_code == 400
    assert client.get("/admin/").status_code == 302
    assert snapshot(engine, skip=()) == before


def test_a_token_from_another_session_is_rejected(admin_app, ben):
    other = admin_app.test_client()
    login(other, "ben@example.org")
    page = other.get(f"/admin/programs/texts/?id={ben.program}")
    from tests.support.admin_walk import TOKEN

    stolen = TOKEN.search(page.text).group(1)
    client = admin_app.test_client()
    login(client, "root@example.org")
    engine = admin_app.extensions["realign"].engine
    before = snapshot(engine, skip=())
    for rule in post_rules(admin_app):
        response = client.post(url_for_rule(rule, ben), data=post_data(rule, ben, stolen))
        assert response.status_code == 400, rule.rule
    assert snapshot(engine, skip=()) == before
