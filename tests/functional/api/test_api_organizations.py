"""Organizations and transfers over the API."""
import pytest


@pytest.fixture
def tokens(app):
    app.make_user("alice")
    app.make_user("bob")
    return {"alice": app.make_token("alice", "t"), "bob": app.make_token("bob", "t"),
            "alice-read": app.make_token("alice", "r", ["api:read"])}


def auth(token):
    return {"Authorization": f"token {token}"}


def test_create_show_and_delete_an_organization(app, testapp, tokens):
    created = testapp.post_json("/api/organizations/Acme", {"email": "o@example.com"}, headers=auth(tokens["alice"]))
    assert created.json["login"] == "acme" and created.json["user_type"] == "org"
    assert created.json["owners"] == ["alice"]
    assert testapp.get("/api/user/acme").json["user_type"] == "org"
    public = testapp.get("/api/organizations/acme").json
    assert "owners" not in public  # membership is not shown to strangers
    testapp.post_json("/api/organizations/acme", {"email": "o@example.com"}, headers=auth(tokens["bob"]), status=409)
    testapp.post_json("/api/organizations/api", {"email": "o@example.com"}, headers=auth(tokens["bob"]), status=400)
    testapp.post_json("/api/organizations/x2", {"email": "o@example.com"}, status=401)
    testapp.post_json("/api/organizations/x3", {"email": "o@example.com"}, headers=auth(tokens["alice-read"]), status=403)
    testapp.delete_json("/api/organizations/acme", {"confirm": "acme"}, headers=auth(tokens["bob"]), status=403)
    testapp.delete_json("/api/organizations/acme", {"confirm": "nope"}, headers=auth(tokens["alice"]), status=400)
    testapp.delete_json("/api/organizations/acme", {"confirm": "acme"}, headers=auth(tokens["alice"]), status=201)
    testapp.get("/api/user/acme", status=404)


def test_owners_and_transfer(app, testapp, tokens):
    app.make_org("acme", "alice")
    app.publish_file("alice", "tool", "1", "t.txt", b"t", labels=["dev"])
    testapp.put("/api/organizations/acme/owners/bob", headers=auth(tokens["bob"]), status=403)
    testapp.put("/api/organizations/acme/owners/bob", headers=auth(tokens["alice"]), status=201)
    testapp.delete("/api/organizations/acme/owners/alice", headers=auth(tokens["bob"]), status=201)
    testapp.delete("/api/organizations/acme/owners/bob", headers=auth(tokens["bob"]), status=400)  # last owner
    # alice no longer owns acme: she may not transfer into it
    testapp.post_json("/api/package/alice/tool/transfer", {"to_owner": "acme"}, headers=auth(tokens["alice"]), status=403)
    testapp.put("/api/organizations/acme/owners/alice", headers=auth(tokens["bob"]), status=201)
    moved = testapp.post_json("/api/package/alice/tool/transfer", {"to_owner": "acme"}, headers=auth(tokens["alice"]))
    assert moved.json["full_name"] == "acme/tool"
    testapp.get("/api/package/alice/tool", headers=auth(tokens["alice"]), status=404)
    assert testapp.get("/api/channels/acme", headers=auth(tokens["alice"])).json["dev"]["is_locked"] is False
    testapp.post_json("/api/package/acme/tool/transfer", {"to_owner": "ghost"}, headers=auth(tokens["alice"]), status=404)
    testapp.post_json("/api/package/acme/tool/transfer", {}, headers=auth(tokens["alice"]), status=400)
    testapp.post_json("/api/package/acme/tool/transfer", {"to_owner": "bob"}, headers=auth(tokens["alice"]), status=403)
