"""CSRF: every admin form and action, posted without a token (or with a forged one), is
rejected with 400 and changes nothing, even for an admin who could otherwise do it all; one
the browser says came from another site is refused (403) even with a valid token; and no
GET under /admin changes anything (rq-dashboard's included)."""

from __future__ import annotations

import pytest

from tests.support.admin import PASSWORD
from tests.support.admin_walk import (
    PUBLIC,
    TOKEN,
    add_ben_records,
    admin_rules,
    login,
    post_data,
    snapshot,
    token_for,
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
    stolen = TOKEN.search(page.text).group(1)
    client = admin_app.test_client()
    login(client, "root@example.org")
    engine = admin_app.extensions["realign"].engine
    before = snapshot(engine, skip=())
    for rule in post_rules(admin_app):
        response = client.post(url_for_rule(rule, ben), data=post_data(rule, ben, stolen))
        assert response.status_code == 400, rule.rule
    assert snapshot(engine, skip=()) == before


# A second check: the browser's own word on where a POST came from ---------------------------

CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another site's page
    {"Origin": "https://evil.example"},
    {"Origin": "http://localhost.evil.example"},
    {"Origin": "null"},  # a sandboxed frame, or a redirect from another site
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=lambda h: ",".join(h.values()))
def test_a_cross_site_post_is_refused_even_with_a_valid_token(admin_app, ben, headers):
    client = admin_app.test_client()
    login(client, "root@example.org")
    engine = admin_app.extensions["realign"].engine
    before = snapshot(engine, skip=())
    problems = []
    for rule in post_rules(admin_app):
        url = url_for_rule(rule, ben)
        data = post_data(rule, ben, token_for(client))
        response = client.post(url, data=data, headers=headers)
        if response.status_code != 403 or "another site" not in response.text:
            problems.append((url, response.status_code))
    assert problems == []
    assert snapshot(engine, skip=()) == before
    assert client.get("/admin/").status_code == 200  # the cross-site sign-out did nothing


@pytest.mark.parametrize("headers", CROSS_SITE[:3], ids=lambda h: ",".join(h.values()))
def test_a_cross_site_sign_in_is_refused(admin_app, world, headers):
    """Login CSRF: another site must not sign a visitor in to an account of its choosing."""
    client = admin_app.test_client()
    token = token_for(client)
    data = {"email": "ana@example.org", "password": PASSWORD, "csrf_token": token}
    assert client.post("/admin/login", data=data, headers=headers).status_code == 403
    assert client.get("/admin/").status_code == 302


def test_our_own_origin_and_the_public_url_may_post(admin_app, world):
    # The browser at our own address (the host it asked for).
    client = admin_app.test_client()
    token = token_for(client)
    data = {"email": "ana@example.org", "password": PASSWORD, "csrf_token": token}
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/admin/login", data=data, headers=own).status_code == 302
    assert client.get("/admin/").status_code == 200
    # Behind a proxy the app may see another host; PUBLIC_BASE_URL is ours too.
    inside = "http://10.1.2.3:8000"
    client = admin_app.test_client()
    token = TOKEN.search(client.get("/admin/login", base_url=inside).text).group(1)
    data = {"email": "ana@example.org", "password": PASSWORD, "csrf_token": token}
    public = {"Origin": "http://localhost"}  # the admin_app's PUBLIC_BASE_URL
    assert (
        client.post("/admin/login", data=data, headers=public, base_url=inside).status_code == 302
    )
    # Neither header (an old browser, a script): the token alone decides.
    client = admin_app.test_client()
    data["csrf_token"] = token_for(client)
    assert client.post("/admin/login", data=data).status_code == 302


def test_a_same_origin_post_still_needs_its_token(admin_app, world):
    client = admin_app.test_client()
    client.get("/admin/login")
    data = {"email": "ana@example.org", "password": PASSWORD}
    headers = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/admin/login", data=data, headers=headers).status_code == 400


# No GET changes anything ------------------------------------------------------------------


def rq_state(redis) -> dict:
    """Every lane's queued and failed jobs."""
    from rq import Queue

    state = {}
    for name in ("turns", "sends", "bulk"):
        queue = Queue(name, connection=redis)
        state[name] = (
            sorted(queue.get_job_ids()),
            sorted(queue.failed_job_registry.get_job_ids(cleanup=False)),
        )
    return state


@pytest.fixture
def failed_job(admin_app):
    """A job on the bulk lane that failed (and so could be requeued or deleted)."""
    from rq import Queue, SimpleWorker

    redis = admin_app.extensions["realign"].redis
    queue = Queue("bulk", connection=redis)
    job = queue.enqueue("operator.truediv", 1, 0)
    SimpleWorker([queue], connection=redis).work(burst=True)
    assert job.id in queue.failed_job_registry.get_job_ids()
    queue.enqueue("operator.add", 1, 2)  # and one waiting
    return job


def test_no_get_under_the_admin_changes_anything(admin_app, ben, failed_job):
    client = admin_app.test_client()
    login(client, "root@example.org")
    engine = admin_app.extensions["realign"].engine
    redis = admin_app.extensions["realign"].redis
    before, queues = snapshot(engine), rq_state(redis)
    walked = 0
    for rule in admin_rules(admin_app):
        if "GET" not in rule.methods or rule.endpoint in PUBLIC:
            continue
        url = url_for_rule(rule, ben).replace("no-such-job", failed_job.id)
        for method in ("GET", "HEAD"):
            response = client.open(url, method=method)
            assert response.status_code < 500, (method, url, response.status_code)
            assert snapshot(engine) == before, (method, url)
            assert rq_state(redis) == queues, (method, url)
            walked += 1
    assert walked > 60
    # rq-dashboard's "requeue all" answers POST only.
    requeue = client.get("/admin/rq/requeue/bulk")
    assert requeue.status_code == 405 and requeue.headers["Allow"] == "POST"


def test_rq_dashboards_buttons_still_requeue_by_post_with_the_token(admin_app, world, failed_job):
    from rq import Queue

    client = admin_app.test_client()
    login(client, "root@example.org")
    redis = admin_app.extensions["realign"].redis
    assert client.post("/admin/rq/requeue/bulk").status_code == 400  # no token: nothing
    assert rq_state(redis)["bulk"][1] == [failed_job.id]
    token = token_for(client)
    # As its jQuery sends it: the token in a header, from our own page.
    headers = {"X-CSRFToken": token, "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    requeued = client.post("/admin/rq/requeue/bulk", headers=headers)
    assert requeued.status_code == 200 and requeued.get_json() == {"status": "OK", "count": 1}
    assert rq_state(redis)["bulk"][1] == []
    assert failed_job.id in Queue("bulk", connection=redis).get_job_ids()
