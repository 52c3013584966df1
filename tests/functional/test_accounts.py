"""Sign up, log in, log out, password changes and CSRF, through the real app."""
import base64

import pytest
import webtest

from anarepo.testing import DEFAULT_PASSWORD, csrf_from, web_login


def signup(testapp, login, email="x@example.com", password=DEFAULT_PASSWORD, confirm=None, status=302):
    page = testapp.get("/account/signup")
    return testapp.post(
        "/account/signup",
        {"login": login, "email": email, "password": password,
         "password_confirm": confirm if confirm is not None else password, "csrf_token": csrf_from(page)},
        status=status,
    )


def test_signup_logs_in_and_creates_the_namespace(app, testapp):
    response = signup(testapp, "Alice")
    assert response.location == "http://localhost/alice/"
    page = response.follow()
    assert "Welcome, alice" in page.text
    assert testapp.get("/account/settings").status_int == 200
    with app.root() as root:
        user = root.owners["alice"]
        assert user.kind == "user" and user.email == "x@example.com"
        assert user.password_hash.startswith("$argon2id$")
        assert DEFAULT_PASSWORD not in user.password_hash


def test_signup_refuses_reserved_invalid_and_taken_names(app, testapp):
    for name, message in [("api", "reserved"), ("conda", "reserved"), ("bad name!", "special characters"), ("a", "2 to 64")]:
        response = signup(testapp, name, status=400)
        assert message in response.text
    app.make_user("bob")
    assert "taken" in signup(testapp, "Bob", status=409).text
    assert "differ" in signup(testapp, "carol", confirm="other-password", status=400).text
    assert "at least 8" in signup(testapp, "carol", password="short", status=400).text
    assert "e-mail" in signup(testapp, "carol", email="not-an-email", status=400).text
    with app.root() as root:
        assert sorted(root.owners.keys()) == ["bob"]


def test_signup_can_be_turned_off(tmp_path):
    from anarepo import main
    from anarepo.testing import AppHarness, make_settings

    harness = AppHarness(main({}, **make_settings(tmp_path, **{"anarepo.allow_signup": "false"})))
    try:
        closed = webtest.TestApp(harness.wsgi_app)
        closed.get("/account/signup", status=404)
        assert "Sign up" not in closed.get("/account/login").text
    finally:
        harness.close()


def test_login_and_logout(app, testapp):
    app.make_user("alice")
    page = testapp.get("/account/login")
    bad = testapp.post("/account/login", {"login": "alice", "password": "wrong-password", "csrf_token": csrf_from(page)}, status=400)
    assert "Invalid user name or password" in bad.text
    testapp.get("/account/settings", status=302)
    web_login(testapp, "alice")
    settings = testapp.get("/account/settings")
    assert "alice@example.com" in settings.text
    testapp.post("/account/logout", {"csrf_token": csrf_from(settings)}, status=302)
    assert testapp.get("/account/settings", status=302).location.startswith("http://localhost/account/login")


def test_login_redirect_stays_on_this_site(app, testapp):
    app.make_user("alice")
    page = testapp.get("/account/login")
    response = testapp.post("/account/login", {"login": "alice", "password": DEFAULT_PASSWORD,
                                               "came_from": "//evil.example.com/x", "csrf_token": csrf_from(page)}, status=302)
    assert response.location == "http://localhost/"


@pytest.mark.parametrize("came_from", ["/x\r\nSet-Cookie: evil=1", "/x\ny", "/\tx", "/x\x00", "/x\x7f"])
def test_a_login_redirect_with_control_characters_goes_home(app, testapp, came_from):
    """A ``came_from`` with a line break or another control character is no local path:
    the login answers the usual redirect home (it was a 500 after a right password)."""
    app.make_user("alice")
    page = testapp.get("/account/login")
    response = testapp.post("/account/login", {"login": "alice", "password": DEFAULT_PASSWORD,
                                               "came_from": came_from, "csrf_token": csrf_from(page)}, status=302)
    assert response.location == "http://localhost/"
    assert "evil" not in str(response.headers)


def test_forms_without_csrf_token_are_refused_and_change_nothing(app, testapp):
    app.make_user("alice")
    testapp.post("/account/login", {"login": "alice", "password": DEFAULT_PASSWORD}, status=400)
    testapp.get("/account/settings", status=302)  # not logged in
    web_login(testapp, "alice")
    response = testapp.post("/account/tokens", {"name": "sneaky"}, status=400)
    assert "did not come from this site" in response.text
    testapp.post("/account/tokens", {"name": "sneaky", "csrf_token": "forged"}, status=400)
    with app.root() as root:
        assert len(root.tokens) == 0


def test_password_change_ends_other_sessions(app, testapp):
    app.make_user("alice")
    other = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    web_login(testapp, "alice")
    web_login(other, "alice")
    page = testapp.get("/account/settings")
    wrong = testapp.post("/account/settings", {"current_password": "nope-nope-nope", "new_password": "new-password-1",
                                               "new_password_confirm": "new-password-1", "csrf_token": csrf_from(page)}, status=400)
    assert "not correct" in wrong.text
    testapp.post("/account/settings", {"current_password": DEFAULT_PASSWORD, "new_password": "new-password-1",
                                       "new_password_confirm": "new-password-1", "csrf_token": csrf_from(page)}, status=302)
    assert testapp.get("/account/settings").status_int == 200  # this browser stays in
    other.get("/account/settings", status=302)  # the other one is logged out
    web_login(other, "alice", "new-password-1")


def test_owner_page_and_home(app, testapp):
    app.make_user("alice")
    app.publish_file("alice", "data", "1", "data.csv", b"a,b\n1,2\n")
    page = testapp.get("/alice")
    assert "data" in page.text and "Member since" in page.text
    testapp.get("/ALICE", status=200)
    testapp.get("/nobody", status=404)
    assert "Your own package repository" in testapp.get("/").text


@pytest.mark.parametrize("header, status", [
    ("token xyz", 401),  # a bogus token: identifies nobody, must not switch the CSRF check off
    ("Basic " + base64.b64encode(b"alice:" + DEFAULT_PASSWORD.encode()).decode(), 400),  # user/password: no identity
])
def test_session_post_with_a_non_token_authorization_header_still_needs_csrf(app, testapp, header, status):
    """Only a valid token exempts a web POST from CSRF; a bogus header riding along the
    session cookie is refused and changes nothing (tokens, session)."""
    app.make_user("alice")
    web_login(testapp, "alice")
    response = testapp.post("/account/tokens", {"name": "sneaky"}, headers={"Authorization": header},
                            status=status)
    assert response.status_int == status
    testapp.post("/account/logout", {}, headers={"Authorization": header}, expect_errors=True)
    with app.root() as root:
        assert len(root.tokens) == 0
    testapp.get("/account/settings", status=200)  # the session survived the forged logout


def test_session_post_with_a_valid_token_needs_no_csrf(app, testapp):
    """A web POST carrying a valid token needs no CSRF token (a script, not a browser);
    account pages themselves need a web session (docs/security.md), so a package page is used."""
    app.make_user("alice")
    token = app.make_token("alice", "cli")
    app.publish_file("alice", "scripted", "1", "scripted.txt", b"x\n")
    testapp.post("/alice/scripted/settings/admin", {"action": "access", "access": "private"},
                 headers={"Authorization": f"token {token}"}, status=302)
    with app.root() as root:
        assert root.owners["alice"].get_package("scripted").access == "private"
