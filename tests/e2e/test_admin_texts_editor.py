"""The program texts editor: every text titled and grouped by step, the standard wording
shown as such with Customise and Back to default, a preview filled in with a real
participant's details (never a test persona's), problems beside the text they belong to,
"Text me this" to the facilitator's own phone through the outbox (once per click, audited,
refused without a phone), and a sticky save bar; in a real browser too."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from service.core import personas
from service.core.text_trial import TEMPLATE
from service.messaging import delivery
from service.models import AuditEvent, Commitment, Facilitator, Message, Participant, Program
from tests.support.admin_walk import TOKEN, login
from tests.support.browser import (
    ARTIFACTS,
    ConsoleLog,
    chromium_page,
    missing_chromium,
    serve,
    sign_in,
)
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN

ANA_PHONE = "+12015550144"


@pytest.fixture
def admin_settings(local_twilio):
    return {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_base_url": local_twilio.base_url,
        "twilio_from_number": "+12015550100",
    }


def _url(world, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"id": world.shared_program, **params}.items())
    return f"/admin/programs/texts/?{query}"


def _box(page: str, fid: str) -> str:
    """The part of the page for one text in one language."""
    start = page.index(f'id="box-{fid}"')
    end = page.find('class="col-lg-6 text-lang', start + 1)
    return page[start : end if end > 0 else len(page)]


def _preview(page: str, fid: str) -> str:
    found = re.search(rf'id="preview-{fid}" aria-live="polite">([^<]*)</div>', page)
    return html.unescape(found.group(1))


def _tokens(page: str) -> dict:
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', page).group(1)
    return {"csrf_token": TOKEN.search(page).group(1), "nonce": nonce}


def _set_phone(services, facilitator_id: int, phone: str | None) -> None:
    with services.sessions() as s:
        s.get(Facilitator, facilitator_id).phone = phone
        s.commit()


def _tests_sent(services) -> list[Message]:
    with services.sessions() as s:
        return s.scalars(sa.select(Message).where(Message.template == TEMPLATE)).all()


def test_each_text_has_a_title_when_it_is_sent_its_step_and_a_preview_with_a_real_person(
    admin_app, world
):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.add(Commitment(participant_id=world.shared_participant, text="Call Dana on Sundays",
                         label="Call Dana on Sundays", status="active"))  # fmt: skip
        s.add(Participant(program_id=world.shared_program, name=f"{personas.NAME} 1",
                          phone=personas.number(101)))  # fmt: skip
        s.commit()
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get(_url(world)).text
    assert "Invitation" in page and "— sent when you invite someone" in page
    assert page.index("Invitation and consent") < page.index("Step 1 · Naming the misalignment")
    assert page.index("Step 1 · Naming the misalignment") < page.index("Closing, trust restored")
    invite = _box(page, "text-invite-en")
    assert "Standard text" in invite and 'class="badge badge-warning state-customised d-none"' in (
        invite
    )
    assert "Reply YES to begin, or STOP to opt out." in invite  # the standard wording, shown
    assert "Customise" in invite and "Text me this" in invite
    # The preview: Cy, of the shared program, whose owner is Ben; never the test persona.
    assert "As Cy Shared would read it" in page
    assert _preview(page, "text-invite-en").startswith("Hi, this is Shared program with Ben Coach.")
    assert _preview(page, "text-commitments_list-en") == (
        "Cy, here are your new commitments:\n1) Call Dana on Sundays"
    )
    assert f"{personas.NAME} 1" not in page
    assert _preview(page, "text-status-es").startswith(
        "Vas en el paso 1 de 5: Nombrar el desajuste."
    )


def test_without_participants_the_preview_uses_sample_names_but_the_program_s_own(admin_app, world):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    with admin_app.extensions["realign"].sessions() as s:
        s.execute(sa.delete(Participant).where(Participant.program_id == world.ana_program))
        s.commit()
    page = client.get(_url(world, id=world.ana_program)).text
    assert "no participants yet, so the previews use sample names" in page
    assert _preview(page, "text-invite-en").startswith("Hi, this is Ana's program with Ana Coach.")
    assert _preview(page, "text-commitments_list-en").startswith(
        "Christabelle, here are your new commitments:\n1) Share the weekly numbers by noon"
    )


def test_the_preview_follows_the_typed_words_with_the_sender_s_rule(admin_app, world):
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get(_url(world)).text
    url = f"/admin/programs/texts/preview/?id={world.shared_program}"
    form = {"csrf_token": TOKEN.search(page).group(1), "key": "commitments_list", "lang": "en"}
    typed = client.post(url, data={**form, "text": "{first_name}, your promises:\n{items}"})
    assert typed.json == {
        "text": "Cy, your promises:\n1) Share the weekly numbers by noon\n"
        "2) Tell Sam by Thursday if I cannot\n3) Call Dana before each big choice",
        "customised": True,
        "problems": [],
        "segments": 1,
        "encoding": "GSM-7",
    }
    broken = client.post(url, data={**form, "text": "Noted, {nickname}."}).json
    assert broken["text"] == "" and broken["customised"]
    assert broken["problems"][0].startswith("Unknown placeholder {nickname}")
    standard = client.post(url, data={**form, "text": ""}).json
    assert standard["text"].startswith("Cy, here are your new commitments:")
    assert not standard["customised"]
    assert client.post(url, data={**form, "key": "nope", "text": "x"}).status_code == 400
    other = f"/admin/programs/texts/preview/?id={world.ben_program}"
    assert client.post(other, data={**form, "text": "x"}).status_code == 404


def test_problems_are_shown_beside_their_text_and_nothing_is_saved(admin_app, world):
    services = admin_app.extensions["realign"]
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get(_url(world)).text
    form = {
        "csrf_token": TOKEN.search(page).group(1),
        "participant": str(world.shared_participant),
        "text-invite-en": "Hi {nickname}, want to start?",
        "text-paused-es": "Pausado.",
    }
    answer = client.post(_url(world), data=form)
    assert answer.status_code == 200
    invite = _box(answer.text, "text-invite-en")
    assert "Unknown placeholder {nickname}" in invite and "must say how to opt out" in invite
    assert "Unknown placeholder" not in _box(answer.text, "text-paused-es")
    assert "Hi {nickname}, want to start?" in invite  # what was typed is kept
    assert "Nothing was saved" in answer.text
    with services.sessions() as s:
        assert s.get(Program, world.shared_program).text_overrides == {}


def test_a_customised_text_is_saved_marked_and_can_go_back_to_default(admin_app, world):
    services = admin_app.extensions["realign"]
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get(_url(world)).text
    token = TOKEN.search(page).group(1)
    mine = "Okay, messages paused. Text RESUME when you want them back."
    saved = client.post(_url(world), data={"csrf_token": token, "text-paused-en": mine})
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).text
    assert "Texts saved (1 changed)." in page
    paused = _box(page, "text-paused-en")
    assert 'class="badge badge-warning state-customised"' in paused
    assert f">{mine}</textarea>" in paused and "Back to default" in paused
    assert 'id="card-paused"' in page and "text-card is-customised" in page
    with services.sessions() as s:
        assert s.get(Program, world.shared_program).text_overrides == {"paused": {"en": mine}}
        [event] = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "program.texts"))
        assert event.detail == {"texts": ["paused.en"]}
    # Back to default: the box goes back to empty, and the standard text is used again.
    again = client.post(_url(world), data={"csrf_token": token, "text-paused-en": ""})
    assert again.status_code == 302
    with services.sessions() as s:
        assert s.get(Program, world.shared_program).text_overrides == {}


def test_text_me_this_reaches_the_facilitator_s_phone_once_and_is_audited(
    admin_app, world, local_twilio
):
    services = admin_app.extensions["realign"]
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get(_url(world)).text
    url = f"/admin/programs/texts/test/?id={world.shared_program}"
    form = {
        **_tokens(page),
        "key": "commitment_added",
        "lang": "en",
        "text": "Noted, {facilitator}.",
        "participant": str(world.shared_participant),
    }
    refused = client.post(url, data=form)  # Ana has no phone yet
    assert refused.status_code == 422
    assert refused.json["message"] == (
        "Not sent: your account has no phone number: add one under My account."
    )
    assert _tests_sent(services) == []
    _set_phone(services, world.ana, ANA_PHONE)
    sent = client.post(url, data=form)
    assert sent.status_code == 200 and sent.json["message"] == "Sent to your phone (•••44)."
    assert sent.json["nonce"] != form["nonce"]
    assert client.post(url, data=form).status_code == 200  # the same click again: once
    [text] = _tests_sent(services)
    assert (text.to_number, text.body, text.participant_id) == (
        ANA_PHONE,
        "Noted, Ben Coach.",
        None,
    )
    with services.sessions() as s:
        [event] = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "program.text_test"))
    assert event.actor == f"facilitator:{world.ana}"
    assert event.detail == {"text": "commitment_added", "language": "en", "message_id": text.id}
    delivery.deliver_many(services, [text.id])  # what its queued send job does
    assert [(m["to"], m["body"]) for m in local_twilio.messages()] == [
        (ANA_PHONE, "Noted, Ben Coach.")
    ]
    broken = client.post(url, data={**form, "nonce": "b" * 32, "text": "Hi {nickname}"})
    assert broken.status_code == 422 and "needs changes first" in broken.json["message"]
    assert client.post(url, data={**form, "nonce": "bad"}).status_code == 400


def test_a_closed_program_s_texts_can_be_read_not_changed(admin_app, world):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        s.get(Program, world.shared_program).status = "closed"
        s.commit()
    client = admin_app.test_client()
    login(client, "ana@example.org")
    page = client.get(_url(world)).text
    assert "This program is closed: its texts can be read, not changed." in page
    assert "js-customise" not in page and 'id="save-texts"' not in page
    token = TOKEN.search(page).group(1)
    assert client.post(_url(world), data={"csrf_token": token}).status_code == 409


def _shot(page, name: str, *, full: bool = False):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


@pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")
def test_a_facilitator_customises_previews_saves_resets_and_texts_herself_in_a_browser(
    admin_app, world, local_twilio
):
    services = admin_app.extensions["realign"]
    _set_phone(services, world.ana, ANA_PHONE)
    from playwright.sync_api import expect

    fid = "text-commitment_added-en"
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}{_url(world)}")
        box = page.locator(f"#box-{fid}")
        preview = page.locator(f"#preview-{fid}")
        counter = page.locator(f'.segment-counter[data-for="{fid}"]')
        assert page.locator(f"#{fid}").is_hidden()
        assert "Ben Coach can see it too." in preview.inner_text()
        assert box.locator(".state-standard").is_visible()
        box.scroll_into_view_if_needed()
        _shot(page, "texts-editor")

        # Customise: the box opens with the standard wording in it.
        box.locator(".js-customise").click()
        area = page.locator(f"#{fid}")
        assert area.is_visible() and area.input_value().startswith("Thanks, we've written down")
        page.fill(f"#{fid}", "Noted. {facilitator} sees it.")
        expect(preview).to_have_text("Noted. Ben Coach sees it.")
        assert box.locator(".state-customised").is_visible()
        assert "Unsaved changes: 1" in page.locator("#unsaved-count").inner_text()
        assert counter.get_attribute("data-segments") == "1"
        page.fill(f"#{fid}", "Noted. {facilitator} sees it. " + "x" * 140)
        assert counter.get_attribute("data-segments") == "2"
        page.wait_for_selector(f"#problems-{fid} .invalid-feedback")
        assert "more than fit in one text message" in page.locator(f"#problems-{fid}").inner_text()
        _shot(page, "texts-editor-typing")
        page.fill(f"#{fid}", "Noted. {facilitator} sees it.")
        expect(page.locator(f"#problems-{fid} div")).to_have_count(0)
        assert page.locator("#texts-savebar").is_visible()  # the sticky bar, mid-page
        _shot(page, "texts-editor-savebar")

        # Text me this: the text as previewed, to her own phone.
        box.locator(".js-text-me").click()
        page.wait_for_selector(f"#test-{fid}.ok")
        assert "Sent to your phone (•••44)." in page.locator(f"#test-{fid}").inner_text()

        # Save: marked customised.
        page.click("#save-texts")
        page.wait_for_selector("text=Texts saved (1 changed).")
        assert page.locator("#card-commitment_added .saved-customised").is_visible()
        assert box.locator(".state-customised").is_visible()
        page.locator("#card-commitment_added").scroll_into_view_if_needed()
        _shot(page, "texts-editor-saved")

        # Back to default, saved: the standard wording again.
        box.locator(".js-reset").click()
        assert page.locator(f"#{fid}").is_hidden() and box.locator(".standard-text").is_visible()
        expect(preview).to_have_text(re.compile(r"^Thanks, we've written down"))
        page.click("#save-texts")
        page.wait_for_selector("text=Texts saved (1 changed).")
        assert page.locator("#card-commitment_added .saved-customised").count() == 0
        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("#card-commitment_added").scroll_into_view_if_needed()
        _shot(page, "texts-editor-phone")
        assert log.csp_violations() == [] and log.errors == []
    with services.sessions() as s:
        assert s.get(Program, world.shared_program).text_overrides == {}
    [text] = _tests_sent(services)
    delivery.deliver_many(services, [text.id])
    assert [m["body"] for m in local_twilio.messages()] == ["Noted. Ben Coach sees it."]
