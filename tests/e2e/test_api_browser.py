"""A facilitator makes an API token and registers a webhook in a real headless Chromium,
with the admin's Content-Security-Policy on. Screenshots go to tests/e2e/screens/."""

from __future__ import annotations

import pytest

from tests.e2e.test_admin_browser import assert_clean, sign_in
from tests.support.api import api_get
from tests.support.browser import ConsoleLog, chromium_page, missing_chromium, screenshot, serve

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")


def test_a_token_and_a_webhook_made_in_the_browser(admin_app, world):
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base, "ana@example.org")
        page.click("text=API tokens")
        page.fill("#token-name", "Case-management sync")
        page.click("#create-token-button")
        token = page.inner_text("#token-value").strip()
        screenshot(page, "api-01-token-created")
        assert token.startswith("rlg_")
        assert api_get(admin_app.test_client(), "programs", token).status_code == 200
        page.goto(f"{base}/admin/api-tokens/")
        assert token not in page.content() and "Case-management sync" in page.content()
        page.once("dialog", lambda d: d.accept())
        page.click("#tokens button:has-text('Revoke')")
        page.wait_for_selector("text=is revoked")
        screenshot(page, "api-02-token-revoked")
        assert api_get(admin_app.test_client(), "programs", token).status_code == 401

        page.click("text=Webhooks")
        page.fill("#webhook-url", "https://crm.example.org/realign")
        page.check("text=A participant was enrolled")
        page.click("#create-webhook-button")
        assert page.inner_text("#webhook-secret").startswith("whsec_")
        screenshot(page, "api-03-webhook-registered")
        assert_clean(log)
