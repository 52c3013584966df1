"""Private and authenticated packages are invisible (404) to those who may not read them."""
from anarepo.testing import web_login


def arrange(app):
    app.make_user("alice")
    app.make_user("bob")
    app.publish_file("alice", "pkg-open", "1", "open.txt", b"o")
    app.publish_file("alice", "pkg-hidden", "1", "hidden.txt", b"h", access="private")
    app.publish_file("alice", "pkg-members", "1", "members.txt", b"m", access="authenticated")


def test_stranger_sees_only_public_packages(app, testapp):
    arrange(app)
    testapp.get("/alice/pkg-open", status=200)
    testapp.get("/alice/pkg-hidden", status=404)
    testapp.get("/alice/pkg-members", status=404)
    listing = testapp.get("/alice").text
    assert "pkg-open" in listing and "pkg-hidden" not in listing and "pkg-members" not in listing


def test_other_user_sees_authenticated_but_not_private(app, testapp):
    arrange(app)
    web_login(testapp, "bob")
    testapp.get("/alice/pkg-members", status=200)
    testapp.get("/alice/pkg-hidden", status=404)
    listing = testapp.get("/alice").text
    assert "pkg-members" in listing and "pkg-hidden" not in listing


def test_owner_and_collaborator_see_private(app, testapp):
    arrange(app)
    web_login(testapp, "alice")
    assert "hidden.txt" in testapp.get("/alice/pkg-hidden").text
    assert "pkg-hidden" in testapp.get("/alice").text
    with app.root() as root:
        root.owners["alice"].packages["pkg-hidden"].collaborators.add("bob")
    web_login(testapp, "bob")
    assert "hidden.txt" in testapp.get("/alice/pkg-hidden").text


def test_site_admin_sees_everything(app, testapp):
    arrange(app)
    app.make_user("root-admin", admin=True)
    web_login(testapp, "root-admin")
    testapp.get("/alice/pkg-hidden", status=200)
