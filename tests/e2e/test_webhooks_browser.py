"""A facilitator's webhook pages in a real headless Chromium: a delivery whose worker died
mid-send reads "not known" with its reason and Resend, and in production the form refuses
a receiver on a private network. Screenshots go to tests/e2e/screens/."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.core.enums import WebhookEvent
from service.models import Facilitator, Participant, WebhookDelivery
from service.program import webhooks
from service.unit_of_work import UnitOfWork
from tests.e2e.test_webhooks import Receiver
from tests.support.browser import (
    ConsoleLog,
    chromium_page,
    missing_chromium,
    screenshot,
    serve,
    sign_in,
)

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")


@pytest.fixture
def receiver():
    r = Receiver(())
    yield r
    r.close()


def test_an_unknown_outcome_is_shown_in_words_and_resent_on_request(admin_app, world, receiver):
    services = admin_app.extensions["realign"]
    with services.sessions() as s:
        ana = s.get(Facilitator, world.ana)
        endpoint = webhooks.register(s, ana, receiver.url, ["participant.enrolled"],
                                     now=services.now(), allow_local=True)  # fmt: skip
        s.commit()
        endpoint_id = endpoint.id
    with UnitOfWork(services) as uow:
        p = uow.session.get(Participant, world.ana_participant)
        [row] = webhooks.emit(uow, WebhookEvent.PARTICIPANT_ENROLLED, p)
        uow.commit()
    with services.sessions() as s:  # its worker was killed once the request may have left
        s.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id == row.id)
            .values(claimed_at=services.now(), sending_at=services.now(), attempts=1)
        )
        s.commit()
    services.clock.advance(seconds=services.settings.webhook_claim_stale_seconds + 1)
    assert webhooks.sweep(services) == 0

    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base, "ana@example.org")
        page.goto(f"{base}/admin/webhooks/log?id={endpoint_id}")
        line = page.locator(f"#delivery-{row.id}")
        assert line.locator(".delivery-state").inner_text() == "Not known: it may have arrived"
        assert "the receiver may have it" in line.inner_text()
        screenshot(page, "webhooks-01-unknown-outcome")
        line.locator("button", has_text="Resend").click()
        page.wait_for_url(f"{base}/admin/webhooks/log?id={endpoint_id}")
        assert page.locator(".alert", has_text="queued to be sent again").is_visible()
        assert webhooks.deliver(services, row.id) == "delivered"
        assert webhooks.deliver(services, row.id) == "skipped"
        page.reload()
        assert line.locator(".delivery-state").inner_text().startswith("Delivered ")
        screenshot(page, "webhooks-02-resent")
        assert log.csp_violations() == [] and log.errors == []
    assert len(receiver.seen) == 1


def test_in_production_the_form_refuses_a_receiver_on_a_private_network(admin_app, world):
    services = admin_app.extensions["realign"]
    with serve(admin_app) as base, chromium_page() as page:
        sign_in(page, base, "ana@example.org")
        services.settings = services.settings.model_copy(update={"env": "production"})
        page.goto(f"{base}/admin/webhooks/")
        for url, says in (
            ("https://10.0.0.5/hook", "The receiver's address 10.0.0.5 is not on the public"),
            ("https://localhost/hook", "The receiver's host localhost points at"),
        ):
            page.fill("input[name=url]", url)
            page.locator("input[name=events]").first.check()
            page.locator("#create-webhook button[type=submit]").click()
            assert says in page.locator("#webhook-problem").inner_text()
            assert page.locator("input[name=url]").input_value() == url  # kept to correct
        screenshot(page, "webhooks-03-private-address-refused")
    with services.sessions() as s:
        assert webhooks.owned(s, s.get(Facilitator, world.ana)) == []
