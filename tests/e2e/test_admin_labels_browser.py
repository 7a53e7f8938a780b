"""The commitment form in a real headless Chromium: each row's short label counts its
characters as it is typed, and labels that would not fit are refused beside the row."""

from __future__ import annotations

import pytest

from service.models import Commitment
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


def test_label_counter_and_the_one_message_limit(admin_app, world):
    services = admin_app.extensions["realign"]
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base)
        page.goto(f"{base}/admin/participants/edit/?id={world.shared_participant}")
        page.fill("#commitments-0-text", "Share the weekly numbers with the team every Monday")
        page.fill("#commitments-0-label", "Weekly numbers on Mondays")
        counter = page.locator('.label-count[data-for="commitments-0-label"]')
        assert counter.inner_text() == "25/32"
        page.fill("#commitments-1-text", "Ask before borrowing the car, even for an hour")
        page.click("#save")
        page.wait_for_url(f"{base}/admin/participants/details/?id={world.shared_participant}")
        listed = page.locator("#commitment-list")
        label = listed.locator(".commitment-label", has_text="Weekly numbers on Mondays")
        assert label.is_visible()
        assert "Ask before borrowing the car" in listed.inner_text()
        with services.sessions() as s:
            labels = sorted(
                c.label
                for c in s.query(Commitment).filter_by(participant_id=world.shared_participant)
            )
        assert labels == ["Ask before borrowing the car", "Weekly numbers on Mondays"]
        page.goto(f"{base}/admin/participants/edit/?id={world.shared_participant}")
        screenshot(page, "admin-commitment-labels")
        assert_clean(log)
