"""Authorization: every admin URL, as anonymous, as facilitator A, as facilitator B, as admin.

The rules are enumerated from `app.url_map` (so a view added later is walked too) and every
id in them is filled with facilitator B's (Ben's) records; each of those records carries
SECRET in its text. Ana (facilitator A, who co-facilitates another of Ben's programs) must
get none of it back (lists, counts, search, ajax, exports, details) and change none of it
(every POST, with a valid CSRF token). Ben and the admin can open the same pages.
"""

from __future__ import annotations

import pytest
from flask_admin.contrib.sqla import ModelView
from flask_login import login_user

from admin.auth import AdminUser
from service.models import Facilitator
from tests.support.admin_walk import (
    PUBLIC,
    SECRET,
    add_ben_records,
    admin_rules,
    login,
    post_data,
    snapshot,
    token_for,
    url_for_rule,
)

ADMIN_ONLY = ("facilitators.", "audit.", "queues.", "rq_dashboard.")
# Where a facilitator adds records of her own (and only those) from any page.
OWN_RECORDS = {"api_tokens.create"}
BY_ID = ("details_view", "edit_view", "texts_view", "close_view", "erase_view", "audio_view")


@pytest.fixture
def ben(admin_app, world):
    return add_ben_records(admin_app, world)


def methods(rule) -> list[str]:
    return sorted(rule.methods & {"GET", "POST"})


def text(response) -> str:
    return response.get_data().decode("utf-8", "replace")


def test_rules_cover_every_admin_feature(admin_app):
    endpoints = {r.endpoint for r in admin_rules(admin_app)}
    for expected in (
        "admin.index",
        "admin.resolve",
        "programs.texts_view",
        "programs.close_view",
        "simulator.text",
        "simulator.persona",
        "queues.index",
        "rq_dashboard.queues_overview",
        "rq_dashboard.delete_job_view",
        "participants.edit_view",
    ):
        assert expected in endpoints


def test_anonymous_gets_the_login_page_from_every_admin_url(admin_app, ben):
    client = admin_app.test_client()
    before = snapshot(admin_app.extensions["realign"].engine)
    walked = 0
    for rule in admin_rules(admin_app):
        if rule.endpoint in PUBLIC:
            continue
        url = url_for_rule(rule, ben)
        for method in methods(rule):
            response = client.open(url, method=method, data=post_data(rule, ben, None))
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/admin/login" in response.headers["Location"], (method, url)
            assert SECRET not in text(response)
            walked += 1
    assert walked > 50
    assert snapshot(admin_app.extensions["realign"].engine) == before


def test_facilitator_a_gets_and_changes_nothing_of_facilitator_bs(admin_app, world, ben):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    engine = admin_app.extensions["realign"].engine
    before = snapshot(engine)
    problems = []
    for rule in admin_rules(admin_app):
        if rule.endpoint in PUBLIC or rule.endpoint == "admin.logout":
            continue
        url = url_for_rule(rule, ben)
        for method in methods(rule):
            try:
                if method == "GET":
                    response = client.get(url)
                    if response.status_code == 308:  # a rule's default, e.g. /admin/rq/0/
                        response = client.get(response.headers["Location"])
                else:
                    response = client.post(url, data=post_data(rule, ben, token_for(client)))
            except Exception as exc:  # noqa: BLE001 (collect every URL's problem)
                problems.append((method, url, f"raised {exc!r}"))
                continue
            where = (method, url, response.status_code)
            if response.status_code >= 500:
                problems.append((*where, "server error"))
            if SECRET in text(response):
                problems.append((*where, "shows Ben's records"))
            if rule.endpoint.startswith(ADMIN_ONLY):
                if response.status_code != 403:
                    problems.append((*where, "admin-only page not 403"))
            elif method == "GET" and rule.endpoint.endswith(BY_ID) and response.status_code != 404:
                problems.append((*where, "not 404"))
            if rule.endpoint in OWN_RECORDS:  # her own new token: nothing else may change
                after = snapshot(engine)
                grown = set(after.pop("apitoken")) - set(before.pop("apitoken"))
                if after != before or not all(f", {world.ana}, " in row for row in grown):
                    problems.append((*where, "changed more than her own tokens"))
                before = snapshot(engine)
            elif method == "POST" and snapshot(engine) != before:
                problems.append((*where, "changed the database"))
                before = snapshot(engine)
        assert client.get("/admin/").status_code == 200, "still signed in"
    assert problems == [], "\n".join(map(str, problems))
    # Search and ajax look-ups for Ben's texts find nothing either.
    for view, term in (("programs", "Ben"), ("participants", "Bo")):
        listing = client.get(f"/admin/{view}/?search={term}")
        assert listing.status_code == 200 and SECRET not in text(listing)
        for field in ("partner", "partner_id", "program", "program_id", "participant"):
            lookup = client.get(f"/admin/{view}/ajax/lookup/?name={field}&query=Bo")
            assert lookup.status_code < 500 and SECRET not in text(lookup)
    dashboard = text(client.get("/admin/"))
    assert "Ben&#39;s program" not in dashboard and "Shared program" in dashboard


def test_counts_and_queries_of_every_model_view_are_scoped(admin_app, world, ben):
    """0 of Ben's rows in every scoped view's list query, count query and get_one."""
    admin = admin_app.extensions["realign_admin"]
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        ana = AdminUser(s.get(Facilitator, world.ana))
    with admin_app.test_request_context("/admin/"):
        login_user(ana)
        for view in admin._views:
            if not isinstance(view, ModelView) or getattr(view, "admin_only", False):
                continue
            rows = view.get_query().all()
            assert view.get_count_query().scalar() == len(rows), view.endpoint
            for row in rows:
                assert SECRET not in repr(row.__dict__), view.endpoint
            if view.endpoint in ("programs", "participants"):
                rid = ben.program if view.endpoint == "programs" else ben.participant
                with pytest.raises(Exception) as excinfo:
                    view.get_one(str(rid))
                assert getattr(excinfo.value, "code", None) == 404


def test_facilitator_b_opens_their_own_records(admin_app, world, ben):
    client = admin_app.test_client()
    login(client, "ben@example.org")
    for url in (
        f"/admin/programs/details/?id={ben.program}",
        f"/admin/programs/edit/?id={ben.program}",
        f"/admin/programs/texts/?id={ben.program}",
        f"/admin/participants/details/?id={ben.participant}",
        "/admin/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET in text(response), url
    assert client.get("/admin/queues/").status_code == 403
    assert client.get("/admin/facilitators/").status_code == 403


def test_admin_opens_every_page(admin_app, world, ben):
    client = admin_app.test_client()
    login(client, "root@example.org")
    for rule in admin_rules(admin_app):
        if "GET" not in rule.methods or rule.endpoint in PUBLIC:
            continue
        url = url_for_rule(rule, ben)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if rule.endpoint == "simulator.index" and response.status_code == 403:
            # Ben's participant is a real one: the simulator acts as nobody but personas.
            assert "acts only as test personas" in text(response), url
            continue
        assert response.status_code not in (401, 403), url
        if rule.endpoint.endswith(("details_view", "edit_view")) and rule.endpoint.startswith(
            ("programs.", "participants.")
        ):
            assert response.status_code == 200, url
    assert f"{SECRET}-ATTENTION" in text(client.get("/admin/"))
    assert f"{SECRET}-STATEMENT" in text(
        client.get(f"/admin/participants/details/?id={ben.participant}")
    )
