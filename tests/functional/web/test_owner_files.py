"""Tools → Packages → Files without JavaScript: confirmation page, refusals, no partial change."""
import webtest

from anarepo.testing import csrf_from, web_login


def test_delete_files_needs_the_account_name(app, testapp):
    app.make_user("alice")
    app.upload("alice", "a.csv", b"a\n", type_name="file", name="sheets", version="1")
    app.upload("alice", "b.csv", b"b\n", type_name="file", name="sheets", version="2")
    web_login(testapp, "alice")
    page = testapp.get("/packages/files")
    assert 'value="sheets/1/a.csv"' in page.text
    token = csrf_from(page)
    confirm = testapp.post("/packages/files", {"csrf_token": token, "action": "delete", "file": "sheets/1/a.csv"})
    assert "There is no undo" in confirm.text and "sheets/1/a.csv" in confirm.text
    wrong = testapp.post("/packages/files", {"csrf_token": token, "action": "delete", "file": "sheets/1/a.csv",
                                             "confirm": "bob"}, status=400)
    assert "does not match" in wrong.text
    testapp.post("/packages/files", {"csrf_token": token, "action": "delete", "file": "sheets/1/a.csv",
                                     "confirm": "alice"}, status=302)
    with app.root() as root:
        package = root.owners["alice"].packages["sheets"]
        assert [d.basename for d in package.distributions()] == ["b.csv"]


def test_files_of_others_cannot_be_deleted(app, testapp):
    app.make_user("alice")
    app.make_user("eve")
    app.make_org("acme", "alice")
    app.upload("acme", "s.csv", b"s\n", type_name="file", name="secret", version="1", access="private")
    web_login(testapp, "eve")
    token = csrf_from(testapp.get("/packages/files"))
    # eve acts as herself: acme's file is not hers to name
    testapp.post("/packages/files", {"csrf_token": token, "action": "delete", "file": "secret/1/s.csv",
                                     "confirm": "eve"}, status=404)
    with app.root() as root:
        assert len(list(root.owners["acme"].packages["secret"].distributions())) == 1
    anonymous = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    assert "/account/login" in anonymous.get("/packages/files", status=302).location
