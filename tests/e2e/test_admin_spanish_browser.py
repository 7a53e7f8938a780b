"""The admin in Spanish, in a real headless Chromium: a facilitator chooses "Español" on My
account and walks Today, a participant's page and the program texts editor, each in Spanish
(our words and Flask-Admin's), with no English menu left."""

from __future__ import annotations

import pytest

from service.models import Facilitator
from tests.e2e.test_admin_participants_browser import assert_clean
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")

SPANISH_MENU = ("Hoy", "Programas", "Participantes", "Bandeja de entrada", "Mi cuenta")
ENGLISH_MENU = ("Today", "Programs", "Participants", "Inbox", "My account", "Simulator")


def menu(page) -> list[str]:
    return [t.strip() for t in page.locator("nav .navbar-nav > li > a").all_inner_texts()]


def assert_spanish_menu(page) -> None:
    names = menu(page)
    for name in SPANISH_MENU:
        assert any(n.startswith(name) for n in names), (name, names)
    for name in ENGLISH_MENU:
        assert not any(n.startswith(name) for n in names), (name, names)
    assert page.locator("#sign-out").inner_text() == "Cerrar sesión"
    assert page.locator("html").count() == 1


def test_a_facilitator_walks_the_admin_in_spanish(admin_app, world):
    services = admin_app.extensions["realign"]
    with serve(admin_app) as base, chromium_page(locale="en-US") as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        assert "Today" in menu(page)  # English until she chooses

        page.goto(f"{base}/admin/account/")
        page.select_option("#language", "es")
        page.click("#account-form button[type=submit]")
        page.wait_for_url(f"{base}/admin/account/")
        assert (
            page.locator(".alert-success")
            .inner_text()
            .strip()
            .endswith("Tu cuenta quedó guardada.")
        )
        assert page.locator("label[for=language]").inner_text() == "Idioma"
        with services.sessions() as s:
            assert s.get(Facilitator, world.ana).language == "es"

        page.goto(f"{base}/admin/")
        assert_spanish_menu(page)
        assert page.locator("h4").first.inner_text() == "Hoy"
        assert page.locator("#attention-title").inner_text().startswith("Te necesitan")
        assert page.locator("#trends-title").inner_text() == "Tus programas"
        assert "Esta semana" in page.locator(".this-week").first.text_content()
        funnel = page.locator(".funnel-link").all_inner_texts()
        assert "Invitados" in funnel and "1. Nombrar el desajuste" in funnel
        screenshot(page, "admin-es-today")

        page.goto(f"{base}/admin/participants/details/?id={world.ana_participant}")
        assert_spanish_menu(page)
        assert page.get_by_text("Invitado, todavía sin aceptar").count() >= 1
        assert page.locator("#action-invite").inner_text() == "Reenviar la invitación"
        assert page.locator("#compose-send").inner_text() == "Enviar"
        assert page.locator("#call-link").inner_text() == "Llamar"  # the verb: phone them
        counter = page.locator(".segment-counter[data-for=compose-body]")
        assert counter.inner_text() == "0 caracteres · GSM-7 · 0 segmentos"
        page.fill("#compose-body", "Hola")
        assert counter.inner_text() == "4 caracteres · GSM-7 · 1 segmento"
        assert page.locator("#reflections h5").inner_text() == "Reflexiones"
        assert "paso 1. Nombrar el desajuste" in page.locator("body").inner_text()
        # Her times in Spanish too: "hoy 10 a. m.", never "today 10 am".
        times = [t.strip() for t in page.locator("time").all_inner_texts() if t.strip()]
        assert times, "the page shows no times"
        english = ("today", "yesterday", "tomorrow", " am", " pm")
        assert not [t for t in times if any(word in t for word in english)], times
        assert any(t.startswith(("hoy", "ayer", "mañana")) or "." in t for t in times), times
        screenshot(page, "admin-es-participant")

        page.goto(f"{base}/admin/programs/")
        assert_spanish_menu(page)
        tabs = page.locator(".nav-tabs").first.inner_text()
        assert "Listado" in tabs  # Flask-Admin's own strings, from its Spanish catalog
        screenshot(page, "admin-es-programs")

        page.goto(f"{base}/admin/programs/texts/?id={world.ana_program}")
        assert_spanish_menu(page)
        # The participants' Spanish defaults, from the participant catalog.
        invite = page.locator("#standard-text-invite-es").inner_text()
        assert invite.startswith("Hola, te escribe {program} con {facilitator}.")
        screenshot(page, "admin-es-program-texts")
        assert_clean(log)


def test_a_spanish_browser_gets_spanish_until_the_facilitator_chooses(admin_app, world):
    with serve(admin_app) as base, chromium_page(locale="es-MX") as page:
        page.goto(f"{base}/admin/login")
        assert page.locator("h4").first.inner_text() == "Inicio de sesión para facilitadores"
        screenshot(page, "admin-es-login")
        sign_in(page, base)
        assert_spanish_menu(page)  # no choice saved: the browser's language

        page.goto(f"{base}/admin/account/")
        page.select_option("#language", "en")
        page.click("#account-form button[type=submit]")
        page.wait_for_url(f"{base}/admin/account/")
        assert "Your account is saved." in page.locator(".alert-success").inner_text()
        page.goto(f"{base}/admin/")
        names = menu(page)
        assert "Today" in names and "Hoy" not in names  # her choice wins over the browser
        assert page.locator("#sign-out").inner_text() == "Sign out"
