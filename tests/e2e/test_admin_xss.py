"""XSS: script payloads stored in everything people write, opened in a real Chromium.

The browser context bypasses the Content-Security-Policy on purpose: the CSP would block
inline script anyway, and this test must prove the escaping itself. A payload that ran would
set `window.__xss` or open a dialog; every page must instead show the payload as text.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.models import (
    AttentionItem,
    CheckIn,
    Commitment,
    Facilitator,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, missing_chromium, serve, sign_in

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '"><svg onload="window.__xss=3">',
    "javascript:window.__xss=4",
    "{{7*7}}",
)
PAYLOAD = " ".join(PAYLOADS)
SHORT = " ".join(PAYLOADS[i] for i in (0, 1, 4))  # for names (120 characters at most)
SHOWN = "<script>window.__xss=1</script>"  # visible as text when escaped


def store_payloads(app, world) -> dict:
    services = app.extensions["realign"]
    now = services.now()
    with services.sessions() as s:
        s.get(Program, world.ana_program).name = f"Prog {SHORT}"
        s.get(Program, world.ana_program).text_overrides = {"help": {"en": f"Help {PAYLOAD}"}}
        s.get(Facilitator, world.ana).name = f"Ana {SHORT}"
        p = s.get(Participant, world.ana_participant)
        p.name = f"Ari {SHORT}"
        message = Message(
            direction="in",
            program_id=world.ana_program,
            participant_id=p.id,
            from_number=p.phone,
            body=f"Msg {PAYLOAD}",
            status="processed",
        )
        out = Message(
            direction="out",
            program_id=world.ana_program,
            participant_id=p.id,
            to_number=p.phone,
            body=f"Out {PAYLOAD}",
            status="console",
        )
        s.add_all([message, out])
        s.flush()
        commitment = Commitment(
            participant_id=p.id, text=f"Commit {PAYLOAD}", sign=f"Sign {PAYLOAD}", status="active"
        )
        s.add_all(
            [
                Statement(
                    participant_id=p.id,
                    step=1,
                    kind="what_happened",
                    body=f"Stmt {PAYLOAD}",
                    message_id=message.id,
                ),
                Statement(
                    participant_id=p.id, step=2, kind="responsibility", body=f"Resp {PAYLOAD}"
                ),
                commitment,
                Reflection(
                    participant_id=p.id, transcript=f"Tx {PAYLOAD}", duration_s=5, status="stored"
                ),
                AttentionItem(
                    program_id=world.ana_program,
                    participant_id=p.id,
                    kind="headsup",
                    detail=f"Att {PAYLOAD}",
                ),
                Message(
                    direction="in",
                    program_id=world.ana_program,
                    from_number="+12015550188",
                    body=f"Unmatched {PAYLOAD}",
                    status="processed",
                ),
            ]
        )
        s.flush()
        s.add(
            CheckIn(
                participant_id=p.id,
                due_at=now - timedelta(days=1),
                status="answered",
                sent_at=now - timedelta(days=1),
                answered_at=now,
                answer_raw=f"Ans {PAYLOAD}",
                note=f"Note {PAYLOAD}",
                commitment_ids=[commitment.id],
            )
        )
        s.commit()
    return {"participant": world.ana_participant, "program": world.ana_program}


def pages(ids) -> list[str]:
    p, prog = ids["participant"], ids["program"]
    return [
        "/admin/",
        "/admin/programs/",
        f"/admin/programs/details/?id={prog}",
        f"/admin/programs/edit/?id={prog}",
        f"/admin/programs/texts/?id={prog}",
        f"/admin/programs/close/?id={prog}",
        "/admin/participants/",
        "/admin/participants/?search=Ari",
        f"/admin/participants/details/?id={p}",
        f"/admin/participants/edit/?id={p}",
        f"/admin/participants/close/?id={p}",
        f"/admin/simulator/?program_id={prog}",
        f"/admin/simulator/?participant_id={p}",
    ]


ADMIN_PAGES = ["/admin/facilitators/", "/admin/audit/", "/admin/queues/"]


def test_no_stored_payload_runs_on_any_page(admin_app, world):
    from playwright.sync_api import sync_playwright

    ids = store_payloads(admin_app, world)
    dialogs: list[str] = []
    with serve(admin_app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for email, urls in (
                ("ana@example.org", pages(ids)),
                ("root@example.org", pages(ids) + ADMIN_PAGES),
            ):
                context = browser.new_context(bypass_csp=True)
                page = context.new_page()
                page.set_default_timeout(10_000)
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                sign_in(page, base, email)
                shown_somewhere = 0
                for url in urls:
                    response = page.goto(base + url)
                    assert response.status < 500, url
                    page.wait_for_load_state("load")
                    page.mouse.move(10, 10)
                    assert page.evaluate("window.__xss") is None, url
                    body = page.inner_text("body")
                    assert "{{7*7}}" in body or SHOWN not in body, url  # no template injection
                    if SHOWN in body:
                        shown_somewhere += 1
                        assert 'onerror="window.__xss=2"' in body, url
                    # payloads in attributes (placeholders, values) never break out either
                    assert page.locator("img[src=x]").count() == 0, url
                    assert page.locator("svg[onload]").count() == 0, url
                assert shown_somewhere >= 8, email
                context.close()
        finally:
            browser.close()
    assert dialogs == []
