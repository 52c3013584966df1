"""Follow every link reachable from the dashboard (or the home page) and check
that no page answers 500, as a site admin, as a package owner and as a stranger.

Each HTML page is also checked for basic accessible markup: every visible form
control has a label (``<label for>``, a wrapping label or ``aria-label``), and
every POST form carries the CSRF token.
"""
from __future__ import annotations

from collections import deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from .conftest import browser_for

MAX_PAGES = 600
SKIP_PREFIXES = ("/static/", "/api/", "/conda/", "/pypi/", "/r/")


def links_of(response, base):
    out = []
    for a in response.html.find_all("a", href=True):
        url = urldefrag(urljoin(base, a["href"]))[0]
        parts = urlsplit(url)
        if parts.netloc not in ("localhost", "localhost:80"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith(SKIP_PREFIXES):
            out.append(path)
    return out


def accessibility_problems(response) -> list[str]:
    html = response.html
    problems = []
    labelled = {label.get("for") for label in html.find_all("label") if label.get("for")}
    for control in html.find_all(["input", "select", "textarea"]):
        if control.name == "input" and control.get("type") in ("hidden", "submit", "button"):
            continue
        if control.get("aria-label") or control.get("aria-labelledby"):
            continue
        if control.get("id") in labelled or control.find_parent("label") is not None:
            continue
        problems.append(f"unlabelled {control.name} name={control.get('name')!r}")
    for form in html.find_all("form"):
        if (form.get("method") or "get").lower() == "post" and not form.find("input", attrs={"name": "csrf_token"}):
            problems.append(f"POST form to {form.get('action')!r} without csrf_token")
    return problems


def crawl(client, starts):
    seen, queue, statuses, problems = set(starts), deque(starts), {}, {}
    while queue and len(seen) <= MAX_PAGES:
        path = queue.popleft()
        response = client.get(path, expect_errors=True)
        if response.status_int in (301, 302, 303):
            location = urlsplit(response.headers["Location"])
            target = location.path + (f"?{location.query}" if location.query else "")
            statuses[path] = response.status_int
            if target not in seen and not target.startswith(SKIP_PREFIXES):
                seen.add(target)
                queue.append(target)
            continue
        statuses[path] = response.status_int
        if response.content_type == "text/html" and response.status_int == 200:
            found = accessibility_problems(response)
            if found:
                problems[path] = found
            for link in links_of(response, "http://localhost" + path):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
    return statuses, problems


@pytest.mark.parametrize("login, starts", [
    ("root-admin", ["/dashboard"]),
    ("alice", ["/dashboard"]),
    (None, ["/"]),
])
def test_no_page_answers_500(site, login, starts):
    client = browser_for(site, login)
    statuses, problems = crawl(client, starts)
    errors = {path: status for path, status in statuses.items() if status >= 500}
    assert not errors, errors
    assert not problems, problems
    # the crawl really went through the site: package pages, files tabs, search, tools
    must_see = ["/alice/mypkg", "/alice/mypkg/files", "/alice/baby-names", "/search?q="]
    if login:
        must_see += ["/packages", "/projects", "/upload", "/organizations", "/account/tokens"]
    if login == "alice":
        must_see += ["/alice/labels", "/alice/labels/dev", "/alice/mypkg/settings/collaborators", "/acme"]
    visited = {path.rstrip("/") if "?" not in path else path for path in statuses}
    missing = [path for path in must_see if path not in visited]
    assert not missing, (missing, sorted(statuses)[:50])
    assert len(statuses) > 20
    if login is None:  # the private package stays hidden from strangers
        assert "/alice/secret" not in visited
        assert all(status in (200, 302, 404, 401, 403) for status in statuses.values())
