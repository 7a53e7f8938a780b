"""Driving the admin in a real headless Chromium (Playwright's sync API, Debian's chromium).

Install the browser with `apt-get install -y chromium`; `playwright install` is not used.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "e2e" / "screens"  # not committed

# Playwright injects this before any page script (CSP does not apply to it): every
# violation the page reports is echoed to the console, where ConsoleLog collects it.
REPORT_CSP = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
    + ` at ${e.sourceFile}:${e.lineNumber} (${e.sample})`);
});
"""


def missing_chromium() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@contextmanager
def serve(app) -> Iterator[str]:
    """Run `app` on 127.0.0.1 (a free port) in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="admin-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def chromium_page(locale: str | None = None) -> Iterator:
    """A fresh page in a fresh headless Chromium; `locale` ("es-MX") sets the language the
    browser asks for (Accept-Language)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            options = {"locale": locale} if locale else {}
            context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
            context.add_init_script(REPORT_CSP)
            page = context.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


class ConsoleLog:
    """Console messages and uncaught errors of a page."""

    def __init__(self, page):
        self.messages: list[str] = []
        self.errors: list[str] = []
        page.on("console", lambda msg: self.messages.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m or "CSP violation" in m]


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base: str, email: str = "ana@example.org") -> None:
    """Sign in through the admin's own form, as a facilitator of tests/support/admin.py."""
    from tests.support.admin import PASSWORD

    page.goto(f"{base}/admin/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
