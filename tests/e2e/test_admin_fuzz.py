"""Every admin URL, signed in, with odd numbers and text in its path, query and form: never
a 5xx, on PostgreSQL and on SQLite.

Numbers out of range for PostgreSQL's integer (2^31 - 1) and SQLite's 64-bit one, digits
that `int()` refuses ('²') or reads ('١٢'), huge filter values, long searches, NUL, and
CR/LF or other hosts in `next=`. The named cases come first (each was a 500 before); the
fuzz after them walks every /admin rule the app registers, bounded and derandomized (the
same examples on every run) so that it costs well under a minute.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from service.models import AttentionItem, Participant
from tests.support.admin import PASSWORD
from tests.support.admin_walk import (
    PATH_VALUES,
    add_ben_records,
    admin_rules,
    login,
    post_data,
    record_id,
    token_for,
)

HUGE = ["2147483648", "9223372036854775808", "9" * 30]
ODD_NUMBERS = [
    *HUGE,
    "",
    "0",
    "1",
    "-1",
    "+3",
    " 4",
    "1_000",
    "²",
    "١٢",
    "2147483647",
    "9223372036854775807",
    "-9223372036854775809",
    "1e3",
    "0x10",
    "\r\n1",
    "\x00",
]
ODD_TARGETS = [
    "/admin/\r\nSet-Cookie: x=1",
    "/admin/\nx",
    "/admin\t//evil.example",
    "/admin/\x7f",
    "//evil.example/admin",
    "https://evil.example/admin/",
    "/admin\\@evil.example",
]


@pytest.fixture
def ben(admin_app, world):
    return add_ben_records(admin_app, world)


@pytest.fixture
def as_admin(admin_app, ben):
    client = admin_app.test_client()
    login(client, "root@example.org")
    return client


@pytest.fixture
def as_ana(admin_app, ben):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    return client


def posted(client, path, data):
    return client.post(path, data={**data, "csrf_token": token_for(client)})


def page_text(response) -> str:
    return response.get_data().decode("utf-8", "replace")


# Ids ---------------------------------------------------------------------------------------

ID_PAGES = [
    "/admin/programs/details/?id={}",
    "/admin/programs/edit/?id={}",
    "/admin/programs/texts/?id={}",
    "/admin/programs/close/?id={}",
    "/admin/participants/details/?id={}",
    "/admin/participants/edit/?id={}",
    "/admin/participants/close/?id={}",
    "/admin/participants/erase/?id={}",
    "/admin/participants/audio/?id={}",
    "/admin/facilitators/edit/?id={}",
    "/admin/audit/details/?id={}",
    "/admin/simulator/?program_id={}",
    "/admin/simulator/?participant_id={}",
    "/admin/webhooks/log?id={}",
]
ID_POSTS = [
    ("/admin/attention/{}/resolve", {}),
    ("/admin/participants/do/", {"id": "{}", "action": "pause"}),
    ("/admin/participants/export/", {"id": "{}"}),
    ("/admin/simulator/text", {"participant_id": "{}", "body": "hi"}),
    ("/admin/simulator/call", {"participant_id": "{}"}),
    ("/admin/simulator/persona", {"program_id": "{}"}),
    ("/admin/webhooks/resend", {"id": "{}"}),
    ("/admin/webhooks/disable", {"id": "{}"}),
    ("/admin/api-tokens/revoke", {"id": "{}"}),
    ("/admin/inbox/failed/{}/retry", {}),
]


@pytest.mark.parametrize("page", ID_PAGES)
def test_an_id_no_record_can_have_is_not_found(as_admin, page):
    for value in [*HUGE, "²", "-1"]:
        response = as_admin.get(page.format(quote(value)))
        assert response.status_code == 404, (value, response.status_code)


@pytest.mark.parametrize(("path", "form"), ID_POSTS)
def test_an_action_on_an_id_no_record_can_have_is_not_found(as_admin, path, form):
    for value in [*HUGE, "²"]:
        data = {k: v.format(value) for k, v in form.items()}
        response = posted(as_admin, path.format(quote(value)), data)
        assert response.status_code == 404, (value, response.status_code)


def test_a_facilitator_gets_not_found_for_huge_ids_too(as_ana):
    for page in ("/admin/participants/details/?id={}", "/admin/simulator/?program_id={}"):
        for value in HUGE:
            assert as_ana.get(page.format(value)).status_code == 404


def test_the_id_of_a_real_record_still_opens_it(as_admin, world):
    page = as_admin.get(f"/admin/participants/details/?id={world.ana_participant}")
    assert page.status_code == 200
    assert "Ari Ana-side" in page_text(page)


def test_an_attention_item_with_a_plain_id_is_still_resolved(admin_app, as_admin, world):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        item = AttentionItem(program_id=world.ana_program, kind="headsup", detail="call me")
        s.add(item)
        s.commit()
        item_id = item.id
    response = posted(as_admin, f"/admin/attention/{item_id}/resolve", {})
    assert response.status_code < 400
    with services.sessions() as s:
        assert s.get(AttentionItem, item_id).resolved_at is not None


# Lists: paging, sorting, filters, search ---------------------------------------------------

LISTS = ["programs", "participants", "facilitators", "audit"]


@pytest.mark.parametrize("view", LISTS)
def test_an_odd_page_number_is_ignored(as_admin, view):
    for value in [*HUGE, "²", "-1", "١٢"]:
        response = as_admin.get(f"/admin/{view}/", query_string={"page": value})
        assert response.status_code == 200, (value, response.status_code)


@pytest.mark.parametrize("view", LISTS)
def test_an_odd_page_size_sort_or_order_is_ignored(as_admin, view):
    for arg in ("page_size", "sort", "desc"):
        for value in [*HUGE, "²", "-1", "١٢"]:
            response = as_admin.get(f"/admin/{view}/", query_string={arg: value})
            assert response.status_code == 200, (arg, value, response.status_code)


def test_an_odd_page_shows_the_first_page(as_admin):
    for value in [*HUGE, "-1", "²"]:
        page = as_admin.get("/admin/participants/", query_string={"page": value})
        assert page.status_code == 200
        assert "Ari Ana-side" in page_text(page), value


@pytest.mark.parametrize("filter_arg", ["flt0_0", "flt1_1", "flt3_0"])
def test_a_number_filter_no_column_holds_is_dropped_with_a_message(as_admin, filter_arg):
    for value in [*HUGE, "-9223372036854775809", "²"]:
        page = as_admin.get("/admin/participants/", query_string={filter_arg: value})
        assert page.status_code == 200, (filter_arg, value, page.status_code)
        text = page_text(page)
        assert "Invalid Filter Value" in text
        assert "Ari Ana-side" in text and "Bo " in text  # no filter applied


def test_a_plain_program_filter_still_filters(as_admin, world):
    page = as_admin.get("/admin/participants/", query_string={"flt0_0": str(world.ana_program)})
    assert page.status_code == 200
    text = page_text(page)
    assert "Ari Ana-side" in text and "Cy Shared" not in text


@pytest.mark.parametrize("view", LISTS)
def test_a_huge_filter_value_or_long_search_is_answered(as_admin, view):
    for query in (
        {"search": "x" * 100_000},
        {"search": "a " * 50_000},
        {"flt0_0": "y" * 100_000},
        {"flt1_1": "," * 50_000},
    ):
        response = as_admin.get(f"/admin/{view}/", query_string=query)
        assert response.status_code == 200, (view, list(query), response.status_code)
        assert len(response.headers.get("Set-Cookie", "")) < 4096  # no huge flash message


@pytest.mark.parametrize("query", [{"search": "a\x00b"}, {"flt0_0": "\x00"}, {"page": "\x00"}])
def test_nul_in_a_list_query_is_a_clear_400(as_admin, query):
    response = as_admin.get("/admin/participants/", query_string=query)
    assert response.status_code == 400
    assert "NUL" in page_text(response)


def test_nul_in_a_form_is_a_clear_400_and_nothing_is_stored(admin_app, as_admin, world):
    response = posted(
        as_admin,
        f"/admin/participants/edit/?id={world.ana_participant}",
        {"name": "Ari\x00", "phone": "+12015550111", "program_id": str(world.ana_program)},
    )
    assert response.status_code == 400
    with admin_app.extensions["realign"].sessions() as s:
        assert s.get(Participant, world.ana_participant).name == "Ari Ana-side"


def test_nul_in_the_sign_in_form_is_a_clear_400(admin_app, world):
    client = admin_app.test_client()
    data = {"email": "ana@example.org\x00", "password": PASSWORD}
    response = posted(client, "/admin/login", data)
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302  # not signed in


# rq-dashboard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("/admin/rq/{}/", [*HUGE, "7"]),
        ("/admin/rq/0/data/jobs/bulk/failed/{}/asc/1.json", [*HUGE, "²", "0"]),
        ("/admin/rq/0/data/jobs/bulk/failed/8/asc/{}.json", [*HUGE, "²", "0"]),
        ("/admin/rq/0/data/jobs/bulk/{}/8/asc/1.json", ["Ð", "nonsense", "Failed"]),
    ],
)
def test_rq_dashboard_paths_it_cannot_read_are_not_found(as_admin, path, values):
    for value in values:
        response = as_admin.get(path.format(quote(value)))
        assert response.status_code == 404, (value, response.status_code)
    assert as_admin.get("/admin/rq/0/data/jobs/bulk/failed/8/asc/1.json").status_code == 200


# next= on sign-in and sign-out -------------------------------------------------------------


@pytest.mark.parametrize("target", ODD_TARGETS)
def test_sign_in_with_an_odd_next_lands_on_the_dashboard(admin_app, world, target):
    client = admin_app.test_client()
    assert client.get("/admin/login", query_string={"next": target}).status_code == 200
    token = token_for(client)
    data = {"email": "ana@example.org", "password": PASSWORD, "csrf_token": token, "next": target}
    response = client.post("/admin/login", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert "Set-Cookie: x" not in str(response.headers)


@pytest.mark.parametrize("target", ODD_TARGETS)
def test_signed_in_visiting_sign_in_with_an_odd_next_goes_home(as_ana, target):
    response = as_ana.get("/admin/login", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_sign_out_with_an_odd_next_goes_to_the_sign_in_page(as_ana):
    response = posted(as_ana, "/admin/logout?next=%0d%0aX:%20y", {"next": "//evil.example"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"


def test_a_plain_next_inside_the_admin_is_still_followed(admin_app, world):
    client = admin_app.test_client()
    token = token_for(client)
    data = {
        "email": "ana@example.org",
        "password": PASSWORD,
        "csrf_token": token,
        "next": "/admin/participants/?page=1",
    }
    response = client.post("/admin/login", data=data)
    assert response.headers["Location"] == "/admin/participants/?page=1"


# The fuzz ----------------------------------------------------------------------------------

odd = st.one_of(
    st.sampled_from(ODD_NUMBERS + ODD_TARGETS),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
QUERY_NAMES = [
    "id",
    "page",
    "page_size",
    "sort",
    "desc",
    "search",
    "flt0_0",
    "flt1_1",
    "flt2_2",
    "flt3_3",
    "flt0_4",
    "flt5_5",
    "program_id",
    "participant_id",
    "next",
    "url",
    "token",
    "export_type",
]
SKIP = {"admin.logout"}  # would end the session the walk runs in (its own test is above)


def fuzzed_path(rule, ben, draw) -> str:
    path = rule.rule
    for name in rule.arguments:
        known = PATH_VALUES.get(name, str(record_id(rule.endpoint, ben)))
        value = draw(st.just(known) | odd)
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", quote(value, safe=""), path)
    return path


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "6")),
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.parametrize("who", ["root@example.org", "ana@example.org"])
def test_every_admin_route_answers_odd_input_without_a_5xx(admin_app, ben, who, data):
    client = admin_app.test_client()
    login(client, who)
    token = token_for(client)
    walked = 0
    for rule in admin_rules(admin_app):
        if rule.endpoint in SKIP:
            continue
        path = fuzzed_path(rule, ben, data.draw)
        query = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), odd, max_size=4))
        if "GET" in rule.methods:
            response = client.get(path, query_string=query)
            assert response.status_code < 500, ("GET", path, query)
            walked += 1
        if "POST" in rule.methods:
            known = post_data(rule, ben, None)
            form = data.draw(
                st.dictionaries(st.sampled_from(sorted(known)) | st.text(max_size=10), odd)
            )
            response = client.post(path, data={**known, **form, "csrf_token": token})
            assert response.status_code < 500, ("POST", path, form)
            walked += 1
    assert walked > 70
