"""WebTest checks of the web tools: bulk actions, Files tab, labels, upload, search."""
from __future__ import annotations

from webtest import Upload

from anarepo.testing import csrf_from, web_login

from .conftest import browser_for


def test_bulk_delete_needs_the_account_name_and_rights(app, testapp):
    app.make_user("alice")
    app.make_user("bob")
    app.upload("alice", "a.txt", b"a", type_name="file", name="pa", version="1")
    web_login(testapp, "alice")
    token = csrf_from(testapp.get("/packages"))
    asked = testapp.post("/packages", {"csrf_token": token, "action": "delete", "package": "pa"})
    assert "There is no undo" in asked.text and "pa" in asked.text
    wrong = testapp.post("/packages", {"csrf_token": token, "action": "delete", "package": "pa", "confirm": "bob"},
                         status=400)
    assert "does not match" in wrong.text
    testapp.post("/packages", {"csrf_token": token, "action": "delete", "package": "nope", "confirm": "alice"},
                 status=404)
    testapp.post("/packages", {"csrf_token": token, "action": "delete", "confirm": "alice"}, status=400)
    with app.root() as root:
        assert root.owners["alice"].get_package("pa") is not None
    testapp.post("/packages", {"action": "delete", "package": "pa", "confirm": "alice"}, status=400)  # no CSRF
    bob = browser_for(app, "bob")  # acting as bob, alice's package is not in his list
    bob.post("/packages", {"csrf_token": csrf_from(bob.get("/packages")), "action": "delete", "package": "pa",
                           "confirm": "bob"}, status=404)
    testapp.post("/packages", {"csrf_token": token, "action": "delete", "package": "pa", "confirm": "alice"},
                 status=302)
    with app.root() as root:
        assert root.owners["alice"].get_package("pa") is None


def test_set_access_refuses_unknown_levels_and_changes_nothing(app, testapp):
    app.make_user("alice")
    app.upload("alice", "a.txt", b"a", type_name="file", name="pa", version="1")
    web_login(testapp, "alice")
    token = csrf_from(testapp.get("/packages"))
    page = testapp.post("/packages", {"csrf_token": token, "action": "access", "package": "pa"})
    assert 'name="access"' in page.text
    testapp.post("/packages", {"csrf_token": token, "action": "access", "package": "pa", "access": "secretive"},
                 status=400)
    testapp.post("/packages", {"csrf_token": token, "action": "access", "package": "pa", "access": "private"})
    with app.root() as root:
        assert root.owners["alice"].get_package("pa").access == "private"


def test_files_tab_removes_files_and_versions_only_with_confirmation(app, testapp):
    app.make_user("alice")
    for v in ("1", "2"):
        app.upload("alice", f"f{v}.txt", b"x", type_name="file", name="pf", version=v)
    web_login(testapp, "alice")
    page = testapp.get("/alice/pf/files")
    token = csrf_from(page)
    assert page.html.find("input", attrs={"name": "file", "value": "2/f2.txt"})
    testapp.post("/alice/pf/files", {"csrf_token": token, "action": "delete", "file": "9/none.txt",
                                     "confirm": "alice"}, status=404)
    asked = testapp.post("/alice/pf/files", {"csrf_token": token, "action": "remove", "version": "1"})
    assert "There is no undo" in asked.text
    testapp.post("/alice/pf/files", {"csrf_token": token, "action": "remove", "version": "1", "confirm": "alice"},
                 status=302)
    testapp.post("/alice/pf/files", {"csrf_token": token, "action": "delete", "file": "2/f2.txt",
                                     "confirm": "alice"}, status=302)
    with app.root() as root:
        package = root.owners["alice"].get_package("pf")
        assert list(package.releases.keys()) == ["2"] and len(package.releases["2"].files) == 0


def test_web_upload_form(app, testapp):
    app.make_user("alice")
    web_login(testapp, "alice")
    token = csrf_from(testapp.get("/upload"))
    done = testapp.post("/upload", {"csrf_token": token, "owner": "alice", "type": "", "name": "d", "version": "1",
                                    "label": "main", "access": "private", "file": Upload("d.csv", b"a,b\n")},
                        status=302)
    assert done.location.endswith("/alice/d/")
    missing = testapp.post("/upload", {"csrf_token": token, "owner": "alice", "type": "file", "label": "main",
                                       "access": "public", "file": Upload("e.csv", b"a\n")}, status=400)
    assert "needs a package name and a version" in missing.text
    # an owner that does not exist, and one alice may not upload to: the API's 404 and 403
    testapp.post("/upload", {"csrf_token": token, "owner": "acme", "type": "", "label": "main", "access": "public",
                             "name": "x", "version": "1", "file": Upload("x.csv", b"a\n")}, status=404)
    app.make_user("bob")
    refused = testapp.post("/upload", {"csrf_token": token, "owner": "bob", "type": "", "label": "main",
                                       "access": "public", "name": "x", "version": "1",
                                       "file": Upload("x.csv", b"a\n")}, status=403)
    assert "permission to upload" in refused.text
    testapp.post("/upload", {"csrf_token": token, "owner": "alice", "label": "bad label!", "access": "public",
                             "name": "y", "version": "1", "type": "", "file": Upload("y.csv", b"a\n")}, status=400)
    testapp.post("/upload", {"csrf_token": token, "owner": "alice", "label": "main", "access": "public",
                             "name": "z", "version": "1", "type": ""}, status=400)  # no file
    with app.root() as root:
        owner = root.owners["alice"]
        assert owner.get_package("d").access == "private"
        assert [owner.get_package(n) for n in ("e", "x", "y", "z")] == [None] * 4
        assert len(root.owners["bob"].packages) == 0


def test_labels_page_needs_manage_and_reports_errors(app, testapp):
    app.make_user("alice")
    app.make_user("bob")
    app.upload("alice", "a.txt", b"a", type_name="file", name="pa", version="1", labels=["dev"])
    bob = browser_for(app, "bob")
    bob.get("/alice/labels", status=403)
    web_login(testapp, "alice")
    page = testapp.get("/alice/labels")
    token = csrf_from(page)
    bad = testapp.post("/alice/labels", {"csrf_token": token, "action": "copy", "source": "dev", "target": "no way"},
                       status=400)
    assert bad.html.find(class_="error")
    testapp.post("/alice/labels", {"csrf_token": token, "action": "copy", "source": "ghost", "target": "x"}, status=400)
    testapp.get("/alice/labels/ghost", status=404)
    testapp.post("/alice/labels/dev", {"csrf_token": token, "action": "move", "target": "main"}, status=400)
    testapp.post("/alice/labels/dev", {"csrf_token": token, "action": "move", "target": "main",
                                       "file": "pa/1/a.txt"}, status=302)
    with app.root() as root:
        assert root.owners["alice"].get_package("pa").releases["1"].files["a.txt"].labels == ("main",)


def test_search_lists_only_visible_packages(app, testapp):
    app.make_user("alice")
    app.upload("alice", "a.txt", b"a", type_name="file", name="hidden-thing", version="1", access="private")
    app.upload("alice", "b.txt", b"a", type_name="file", name="open-thing", version="1")
    page = testapp.get("/search", {"q": "thing"})
    assert "alice/open-thing" in page.text and "hidden-thing" not in page.text
    assert testapp.get("/search", {"q": "x" * 201}, status=400)
    assert "No package matches" in testapp.get("/search", {"q": "thing", "type": "conda"}).text
    web_login(testapp, "alice")
    assert "alice/hidden-thing" in testapp.get("/search", {"q": "thing"}).text
