"""Chromium crawls pages full of hostile package metadata: nothing runs, nothing leaves
(the browser part of the adversarial suite in tests/adversarial).

The crawler follows every same-origin link (anonymous and logged in), and on every
page asserts the CSP header; across the crawl no dialog opens, the main frame never
goes anywhere it was not sent, and no request leaves for a foreign origin.
"""
from __future__ import annotations

import json
from urllib.parse import urldefrag, urlsplit

import pytest

from anarepo.package_types.pypi import builders
from anarepo.testing import AppHarness, LiveServer, make_settings
from tests import builders as files
from .conftest import login

pytestmark = pytest.mark.browser

PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>'
FOREIGN = "http://evil.example/"
MAX_PAGES = 60


def hostile_notebook() -> bytes:
    return files.notebook([
        {"cell_type": "markdown", "metadata": {}, "source": f"# Title {PAYLOAD}\n<a href='javascript:alert(4)'>x</a>"},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "x",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"text/html": f"<script>alert(5)</script><img src='{FOREIGN}img.png'>"
                                            f"<iframe src='{FOREIGN}'></iframe>",
                               "image/svg+xml": "<svg onload='alert(6)'></svg>"}}]},
    ])


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    from anarepo import main

    app = AppHarness(main({}, **make_settings(tmp_path_factory.mktemp("hostile"))))
    app.make_user("mallory")
    app.make_user("victim")
    meta = builders.metadata_text("evilwheel", "1.0", summary=PAYLOAD[:200])
    fn, data = builders.wheel("evilwheel", "1.0", metadata=meta + PAYLOAD)
    app.upload("mallory", fn, data)
    app.upload("mallory", "evil.ipynb", hostile_notebook())
    app.upload("mallory", "evil.csv", f"{PAYLOAD},b\n<script>alert(7)</script>,{FOREIGN}\n".encode(),
               type_name="file", name="evilcsv", version="1")
    app.publish_file("mallory", "evilfile", "1.0", "evil.html", PAYLOAD.encode(), summary=PAYLOAD[:300],
                     description=PAYLOAD)
    with app.root() as root:  # links an older database may hold: the render filter must drop them
        for package in root.owners["mallory"].packages.values():
            package.home = "javascript:alert(8)"
            package.dev_url = " java\tscript:alert(9)"
            package.doc_url = FOREIGN
    server = LiveServer(app.wsgi_app, threads=4).start()
    yield server
    server.stop()
    app.close()


def crawl(page, start: str) -> list[str]:
    """Visit same-origin pages breadth first; return the URLs visited."""
    origin = urlsplit(start).netloc
    queue, seen = [start], set()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        assert response is not None, url
        headers = response.all_headers()
        csp = headers.get("content-security-policy", "")
        if "text/html" in headers.get("content-type", ""):
            assert "script-src 'self'" in csp or "script-src 'none'" in csp, (url, csp)
            assert "frame-ancestors" in csp, url
        page.wait_for_timeout(50)
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        if not csp.startswith("sandbox"):  # a sandboxed, script-less document runs no link
            assert [h for h in hrefs if not h.startswith(("http://", "https://"))] == [], url
        for href in hrefs:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.netloc != origin or "/download/" in href or "logout" in href or href in seen:
                continue
            queue.append(href)
    return sorted(seen)


@pytest.mark.parametrize("who", [None, "victim"])
def test_hostile_metadata_runs_nothing_and_calls_nowhere(browser, hostile_site, who):
    context = browser.new_context()
    page = context.new_page()
    dialogs, foreign, navigations = [], [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    here = urlsplit(hostile_site.url).netloc

    def left(request, failure=None):
        """A request that reached the network for another origin (CSP-blocked ones never leave)."""
        if urlsplit(request.url).netloc not in (here, "") and failure != "csp":
            foreign.append((request.url, request.frame.url, failure))

    page.on("requestfinished", left)
    page.on("requestfailed", lambda r: left(r, r.failure))
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
    try:
        if who:
            login(page, type("S", (), {"url": hostile_site.url}), who)
        visited = crawl(page, hostile_site.url + "/mallory")
        for path in ("/mallory/evilwheel", "/mallory/evil", "/mallory/evilcsv", "/mallory/evilfile"):
            assert {hostile_site.url + path, hostile_site.url + path + "/"} & set(visited), visited
        page.goto(hostile_site.url + "/mallory/evil")
        page.wait_for_timeout(500)  # the sandboxed notebook frame loads
        assert dialogs == []
        assert foreign == [], foreign
        assert all(urlsplit(u).netloc == urlsplit(hostile_site.url).netloc for u in navigations), navigations
        assert page.title() and "pwned" not in page.title()
        cookies = json.dumps(context.cookies())
        assert who is None or "anarepo_session" in cookies  # the session survived: no script touched it
    finally:
        context.close()
