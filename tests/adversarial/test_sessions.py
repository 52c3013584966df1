"""Sessions end server-side; tokens never open the account pages; a password change
can revoke every token."""
from __future__ import annotations

import pytest
import webtest

from anarepo.testing import DEFAULT_PASSWORD, csrf_from, web_login

from .hostile import snapshot


@pytest.fixture
def alice(app):
    app.make_user("alice")
    return app.make_token("alice", "cli")  # an all-scope token


def stolen_copy(app, testapp):
    """A second browser holding a copy of the session cookie."""
    thief = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    for cookie in testapp.cookiejar:
        thief.set_cookie(cookie.name, cookie.value)
    return thief


def test_logout_ends_a_copied_cookie(app, testapp, alice):
    web_login(testapp, "alice")
    thief = stolen_copy(app, testapp)
    thief.get("/account/settings", status=200)
    page = testapp.get("/account/settings")
    testapp.post("/account/logout", {"csrf_token": csrf_from(page)}, status=302)
    assert "/account/login" in thief.get("/account/settings", status=302).location
    before = snapshot(app)
    thief.post("/account/tokens", {"name": "stolen", "csrf_token": csrf_from(page)}, status="*")
    assert snapshot(app) == before


def test_password_change_ends_other_sessions_and_can_revoke_tokens(app, testapp, alice):
    other = app.make_token("alice", "second", ["api:read"])
    web_login(testapp, "alice")
    thief = stolen_copy(app, testapp)
    page = testapp.get("/account/settings")
    assert 'name="revoke_tokens"' in page.text
    testapp.post("/account/settings", {"csrf_token": csrf_from(page), "current_password": DEFAULT_PASSWORD,
                                       "new_password": "another-long-pass", "new_password_confirm": "another-long-pass",
                                       "revoke_tokens": "1"}, status=302)
    assert "/account/login" in thief.get("/account/settings", status=302).location
    testapp.get("/account/settings", status=200)  # the browser that changed it stays logged in
    for token in (alice, other):
        testapp.get("/api/user", headers={"Authorization": f"token {token}"}, status=401)


def test_password_change_without_the_box_keeps_tokens(app, testapp, alice):
    web_login(testapp, "alice")
    page = testapp.get("/account/settings")
    testapp.post("/account/settings", {"csrf_token": csrf_from(page), "current_password": DEFAULT_PASSWORD,
                                       "new_password": "another-long-pass", "new_password_confirm": "another-long-pass"},
                 status=302)
    testapp.get("/api/user", headers={"Authorization": f"token {alice}"}, status=200)


@pytest.mark.parametrize("how", ["path", "header"])
@pytest.mark.parametrize("method,path,form", [
    ("GET", "/account/settings", None),
    ("GET", "/account/tokens", None),
    ("POST", "/account/tokens", {"name": "minted", "scopes": "all"}),
    ("POST", "/account/tokens/revoke", {"name": "cli"}),
    ("POST", "/account/settings", {"current_password": DEFAULT_PASSWORD, "new_password": "hijacked-pass",
                                   "new_password_confirm": "hijacked-pass"}),
])
def test_a_token_never_opens_account_pages(app, testapp, alice, how, method, path, form):
    url = f"/t/{alice}{path}" if how == "path" else path
    headers = {} if how == "path" else {"Authorization": f"token {alice}"}
    before = snapshot(app)
    if method == "GET":
        r = testapp.get(url, headers=headers, status="*")
    else:
        r = testapp.post(url, form, headers=headers, status="*")
    assert r.status_int in (403, 404), r.status
    assert snapshot(app) == before
    with app.root() as root:
        from anarepo.services.accounts import authenticate

        assert authenticate(root, "alice", DEFAULT_PASSWORD) is not None
