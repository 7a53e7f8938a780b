"""The admin in a real headless Chromium, with the Content-Security-Policy on.

Screenshots go to tests/e2e/screens/. Any CSP violation or uncaught script error fails the test.
"""

from __future__ import annotations

import re

import pytest

from tests.support.admin import PASSWORD
from tests.support.browser import ConsoleLog, chromium_page, missing_chromium, screenshot, serve

pytestmark = pytest.mark.skipif(missing_chromium() is not None, reason=missing_chromium() or "")


def sign_in(page, base, email):
    page.goto(f"{base}/admin/")
    assert re.search(r"/admin/login\?next=", page.url)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def assert_clean(log: ConsoleLog):
    assert log.csp_violations() == [], log.messages
    assert log.errors == []


def test_facilitator_signs_in_browses_and_signs_out(admin_app, world):
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        page.goto(f"{base}/admin/")
        assert page.locator("h4", has_text="Facilitator sign-in").is_visible()
        screenshot(page, "admin-01-login")

        sign_in(page, base, "ana@example.org")
        assert page.locator("h4", has_text="Today").is_visible()
        rows = page.locator(".program-trend h6")
        assert rows.count() == 2
        assert "Shared program" in rows.all_inner_texts()[1]
        assert "Ben's program" not in page.content()
        screenshot(page, "admin-02-dashboard")

        page.click("nav >> text=Programs")
        page.wait_for_url(f"{base}/admin/programs/")
        table = page.locator("table.model-list")
        assert "Ana's program" in table.inner_text() and "Shared program" in table.inner_text()
        # Flask-Admin's scripts run under the CSP: the filter menu builds a filter row.
        page.click("text=Add Filter")
        page.click(".field-filters a.filter >> text=Status")
        assert page.locator("#filter_form table.filters tr").count() == 1
        screenshot(page, "admin-03-programs")

        # An edit form round trip (SecureForm's CSRF token in a real browser).
        page.goto(f"{base}/admin/programs/edit/?id={world.ana_program}")
        page.fill("#name", "Ana's renamed program")
        page.click("#save")
        page.wait_for_url(f"{base}/admin/programs/")
        assert page.locator(".alert", has_text="Record was successfully saved").is_visible()

        page.click("#sign-out")
        page.wait_for_url(f"{base}/admin/login")
        assert page.locator(".alert", has_text="You are signed out").is_visible()
        screenshot(page, "admin-04-signed-out")
        page.goto(f"{base}/admin/programs/")
        assert "/admin/login" in page.url
        assert_clean(log)


def test_admin_pages_work_under_the_csp(admin_app, world):
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base, "root@example.org")
        page.click("nav >> text=Facilitators")
        page.wait_for_url(f"{base}/admin/facilitators/")
        assert page.locator("table.model-list tbody tr").count() == 3
        page.goto(f"{base}/admin/facilitators/new/")
        page.fill("#email", "nia@example.org")
        page.fill("#name", "Nia New")
        page.fill("#password", "qwerty123456")  # twelve characters, and guessed first
        page.click("input[type=submit][value=Save]")
        assert "one of the most common" in page.locator(".alert").inner_text()
        assert "not a common password" in page.content()  # the field says so beforehand
        screenshot(page, "admin-05a-common-password")
        page.fill("#email", "nia@example.org")
        page.fill("#name", "Nia New")
        page.fill("#password", "long enough pw")
        page.click("input[type=submit][value=Save]")
        page.wait_for_url(f"{base}/admin/facilitators/")
        assert "nia@example.org" in page.locator("table.model-list").inner_text()
        screenshot(page, "admin-05-facilitators")

        page.click("nav >> text=Audit log")
        page.wait_for_url(f"{base}/admin/audit/")
        assert "Created a facilitator account" in page.locator("table.model-list").inner_text()
        page.click("text=Add Filter")
        page.click(".field-filters a.filter >> text=At")
        assert page.locator("#filter_form table.filters tr").count() == 1
        screenshot(page, "admin-06-audit-log")
        page.goto(f"{base}/admin/participants/details/?id={world.ben_participant}")
        assert "Bo Ben-side" in page.content()
        assert_clean(log)


def test_rq_dashboard_works_under_its_policy(admin_app, world):
    """rq-dashboard renders its tables with its own scripts and deletes a job through its
    confirmation dialog (a POST that carries the admin's CSRF token)."""
    from rq import Queue

    redis = admin_app.extensions["realign"].redis
    job = Queue("bulk", connection=redis).enqueue("jobs.tasks.sweep")
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base, "root@example.org")
        page.goto(f"{base}/admin/queues/")
        page.click("#rq-dashboard-link")
        page.wait_for_url(f"{base}/admin/rq/")
        row = page.locator("tr[data-role=queue]")
        row.wait_for()
        assert row.locator("td").first.inner_text() == "bulk"
        assert row.locator("td").nth(1).inner_text().strip() == "1"
        screenshot(page, "admin-07-rq-dashboard")
        row.locator("td").nth(1).locator("a").click()  # the bulk lane's queued jobs
        page.locator(f"tr[data-job-id='{job.id}']").wait_for()
        page.click(f"tr[data-job-id='{job.id}'] [data-role=delete-job-btn]")
        # Answer while the dialog is still fading in, as a quick hand does: it must close.
        page.evaluate("document.getElementById('confirmation-modal-yes').click()")
        page.locator(f"tr[data-job-id='{job.id}']").wait_for(state="detached")
        page.locator("#confirmation-modal").wait_for(state="hidden")
        assert Queue("bulk", connection=redis).count == 0
        page.click("#back-to-admin")
        page.wait_for_url(f"{base}/admin/queues/")
        assert_clean(log)


def test_rq_dashboards_requeue_all_button_still_works(admin_app, world):
    """rq-dashboard's "Requeue all" answers POST only now; its button (a link its script
    turns into a POST from our own page, with the token) still requeues the failed jobs."""
    import time

    from rq import Queue, SimpleWorker

    redis = admin_app.extensions["realign"].redis
    queue = Queue("bulk", connection=redis)
    job = queue.enqueue("operator.truediv", 1, 0)
    SimpleWorker([queue], connection=redis).work(burst=True)
    assert queue.failed_job_registry.get_job_ids() == [job.id]
    with serve(admin_app) as base, chromium_page() as page:
        log = ConsoleLog(page)
        sign_in(page, base, "root@example.org")
        page.goto(f"{base}/admin/rq/0/view/jobs/bulk/failed/8/asc/1")
        page.locator(f"tr[data-job-id='{job.id}']").wait_for()
        page.click("#requeue-all-btn")
        page.locator("#confirmation-modal-yes").wait_for(state="visible")
        page.click("#confirmation-modal-yes")
        deadline = time.monotonic() + 10
        while queue.failed_job_registry.count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert queue.failed_job_registry.count == 0
        assert queue.get_job_ids() == [job.id]
        assert_clean(log)
