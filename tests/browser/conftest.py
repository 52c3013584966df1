"""Playwright with Debian's Chromium against a live anarepo on a temporary database.

One browser per session, one populated live server per module, a fresh browser
context (cookies) per test.  Screenshots of the main pages go to
``test-artifacts/screenshots/`` (ignored by git).  Browsers are never downloaded:
the test needs /usr/bin/chromium (scripts/system-packages.txt).  Without it the
browser tests skip on a developer's machine but FAIL under CI (``CI`` set), so a CI
run can never be green without having run them.
"""
from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from anarepo.testing import DEFAULT_PASSWORD, AppHarness, LiveServer, make_settings
from tests.functional.web.site import populate

CHROMIUM = os.environ.get("ANAREPO_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser():
    if not shutil.which(CHROMIUM):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


class Site:
    """The live server, its database, and helpers to act and to check outcomes."""

    def __init__(self, app: AppHarness, server: LiveServer):
        self.app = app
        self.server = server
        self.url = server.url
        self.tokens = {}

    def token(self, login):
        if login not in self.tokens:
            self.tokens[login] = self.app.make_token(login, name=f"browser-tests-{login}")
        return self.tokens[login]

    def api(self, path, login=None, method="GET"):
        """(status, JSON or None) of an API call, with ``login``'s token if given."""
        request = urllib.request.Request(self.url + path, method=method)
        if login:
            request.add_header("Authorization", f"token {self.token(login)}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
                return response.status, json.loads(body) if body else None
        except urllib.error.HTTPError as exc:
            return exc.code, None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from anarepo import main

    app = AppHarness(main({}, **make_settings(tmp_path_factory.mktemp("browser"))))
    populate(app)
    server = LiveServer(app.wsgi_app, threads=4).start()
    yield Site(app, server)
    server.stop()
    app.close()


@pytest.fixture
def context_factory(browser):
    contexts = []

    def make(**kw):
        context = browser.new_context(**kw)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def login(page, site, user, password=DEFAULT_PASSWORD):
    """Log in through the form, as a person does."""
    page.goto(site.url + "/account/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/account/login" not in page.url, page.content()[:2000]


@pytest.fixture
def as_user(context_factory, site):
    """``as_user("alice")`` → a logged-in page in a fresh context (``None``: a stranger)."""

    def make(user=None, **context_kw):
        page = context_factory(**context_kw).new_page()
        if user:
            login(page, site, user)
        return page

    return make


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def flash(page) -> str:
    return page.locator(".flash").all_inner_texts()
