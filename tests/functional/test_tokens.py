"""Token authentication: headers, the /t/<token>/ path in both positions, bad tokens."""
import base64
from datetime import timedelta

import pytest

from anarepo.clock import utcnow
from anarepo.testing import csrf_from, web_login


@pytest.fixture
def alice_token(app):
    app.make_user("alice")
    return app.make_token("alice", "cli")


def test_token_by_header_bearer_and_basic(testapp, alice_token):
    assert testapp.get("/api/user", headers={"Authorization": f"token {alice_token}"}).json["login"] == "alice"
    assert testapp.get("/api/user", headers={"Authorization": f"Bearer {alice_token}"}).json["login"] == "alice"
    basic = base64.b64encode(f"__token__:{alice_token}".encode()).decode()
    assert testapp.get("/api/user", headers={"Authorization": f"Basic {basic}"}).json["login"] == "alice"


def test_token_in_path_before_and_after_the_mount_point(app, testapp, alice_token):
    assert testapp.get(f"/t/{alice_token}/api/user").json["login"] == "alice"
    assert testapp.get(f"/api/t/{alice_token}/user").json["login"] == "alice"
    # web pages keep the token in the links they generate, but not in static assets
    app.publish_file("alice", "data", "1", "d.csv", b"1,2", access="private")
    page = testapp.get(f"/t/{alice_token}/alice")
    assert f'href="http://localhost/t/{alice_token}/alice/data/"' in page.text
    assert f"/t/{alice_token}/static/" not in page.text
    assert "http://localhost/static/site.css" in page.text


def test_anonymous_api_user_is_401(testapp):
    response = testapp.get("/api/user", status=401)
    assert response.json == {"error": "authentication required"}


@pytest.mark.parametrize("where", ["header", "root", "mount"])
def test_wrong_token_is_401_everywhere(app, testapp, where):
    app.make_user("alice")
    bad = "ar-" + "x" * 40
    if where == "header":
        response = testapp.get("/api/user", headers={"Authorization": f"token {bad}"}, status=401)
    elif where == "root":
        response = testapp.get(f"/t/{bad}/api/user", status=401)
    else:
        response = testapp.get(f"/api/t/{bad}/user", status=401)
    assert response.json["error"] == "invalid or revoked token"
    # even public pages refuse a bad credential, so the client learns it at once
    testapp.get(f"/t/{bad}/alice", status=401)
    # but the reachability check never fails on credentials
    testapp.head("/api", headers={"Authorization": f"token {bad}"}, status=200)


def test_expired_token_is_401(app, testapp, alice_token):
    with app.root() as root:
        token = next(iter(root.tokens.values()))
        token.expires = utcnow() - timedelta(seconds=1)
    response = testapp.get("/api/user", headers={"Authorization": f"token {alice_token}"}, status=401)
    assert response.json["error"] == "expired token"


def test_token_made_in_the_web_ui_is_shown_once_then_revoked(app, testapp):
    app.make_user("alice")
    web_login(testapp, "alice")
    page = testapp.get("/account/tokens")
    created = testapp.post("/account/tokens", {"name": "laptop", "scopes": ["conda:download"], "expires_days": "30",
                                               "csrf_token": csrf_from(page)})
    raw = created.html.find(id="new-token").text
    assert raw.startswith("ar-") and len(raw) == 43
    assert created.headers["Cache-Control"] == "no-store"
    listing = testapp.get("/account/tokens")
    assert "laptop" in listing.text and raw not in listing.text
    with app.root() as root:
        (token,) = root.tokens.values()
        assert token.scopes == ("conda:download",) and raw not in token.digest
        assert token.expires - utcnow() > timedelta(days=29)
    duplicate = testapp.post("/account/tokens", {"name": "laptop", "csrf_token": csrf_from(listing)}, status=409)
    assert "exists already" in duplicate.text
    bad_scope = testapp.post("/account/tokens", {"name": "x", "scopes": ["root"], "csrf_token": csrf_from(listing)}, status=400)
    assert "unknown scope" in bad_scope.text
    testapp.post("/account/tokens/revoke", {"name": "laptop", "csrf_token": csrf_from(listing)}, status=302)
    with app.root() as root:
        assert len(root.tokens) == 0 and "laptop" not in root.owners["alice"].token_names
    testapp.get(f"/t/{raw}/alice", status=401)


def test_scopes_limit_what_a_token_sees(app, testapp):
    app.make_user("alice")
    app.publish_file("alice", "secret", "1", "s.txt", b"x", access="private")
    pypi_only = app.make_token("alice", "pypi", ["pypi:download"])
    full = app.make_token("alice", "full")
    testapp.get(f"/t/{pypi_only}/alice/secret", status=404)
    assert "s.txt" in testapp.get(f"/t/{full}/alice/secret").text
