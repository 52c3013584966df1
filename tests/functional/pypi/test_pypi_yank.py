"""The yank API: who may yank, what it answers, and what it refuses."""
from __future__ import annotations

from anarepo.package_types.pypi import builders

from .conftest import JSON


def test_yank_answers_and_permissions(testapp, app, alice, upload):
    w, wd = builders.wheel("yanked", "1.0")
    s, sd = builders.sdist("yanked", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"])
    upload("/pypi/alice/", s, sd, alice["upload"])
    app.publish_file("alice", "notes", "1.0", "notes.txt", b"hi", type_name="file")
    owner = {"Authorization": f"token {app.make_token('alice', 'api', ['api:write'])}"}
    app.make_user("bob")
    bob = {"Authorization": f"token {app.make_token('bob', 'api', ['api:write'])}"}
    read_only = {"Authorization": f"token {app.make_token('alice', 'ro', ['api:read'])}"}

    testapp.post("/api/yank/alice/yanked/1.0", status=401)
    r = testapp.post("/api/yank/alice/yanked/1.0", headers=bob, status=403)
    assert "error" in r.json
    testapp.post("/api/yank/alice/yanked/1.0", headers=read_only, status=403)
    testapp.post("/api/yank/alice/nothing/1.0", headers=owner, status=404)
    testapp.post("/api/yank/alice/yanked/9.9", headers=owner, status=404)
    testapp.post("/api/yank/alice/yanked/1.0/missing.whl", headers=owner, status=404)
    testapp.post("/api/yank/nobody/yanked/1.0", headers=owner, status=404)
    r = testapp.post("/api/yank/alice/notes/1.0/notes.txt", headers=owner, status=400)
    assert "not a PyPI file" in r.json["error"]
    testapp.post("/api/yank/alice/yanked/1.0", "{not json", headers={**owner, "Content-Type": "application/json"},
                 status=400)
    testapp.post_json("/api/yank/alice/yanked/1.0", {"reason": 5}, headers=owner, status=400)
    assert all(f["yanked"] is False for f in testapp.get("/pypi/alice/simple/yanked/",
                                                         headers={"Accept": JSON}).json["files"])

    r = testapp.post("/api/yank/alice/yanked/1.0?reason=bad+build", headers=owner)
    assert sorted((f["basename"], f["yanked_reason"]) for f in r.json["files"]) == sorted([(s, "bad build"), (w, "bad build")])
    files = testapp.get("/pypi/alice/simple/yanked/", headers={"Accept": JSON}).json["files"]
    assert [f["yanked"] for f in files] == ["bad build", "bad build"]
    r = testapp.delete(f"/api/yank/alice/yanked/1.0/{s}", headers=owner)
    assert r.json["files"] == [{"basename": s, "version": "1.0", "yanked": False, "yanked_reason": None}]
    files = {f["filename"]: f["yanked"] for f in
             testapp.get("/pypi/alice/simple/yanked/", headers={"Accept": JSON}).json["files"]}
    assert files == {w: "bad build", s: False}


def test_private_package_yank_is_404_for_strangers(testapp, app, alice, upload):
    from anarepo.services.packages import set_access

    w, wd = builders.wheel("hushed", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"])
    with app.root() as root:
        set_access(app.registry, root.owners["alice"]["hushed"], "private")
    app.make_user("bob")
    bob = {"Authorization": f"token {app.make_token('bob', 'api', ['api:write'])}"}
    testapp.post("/api/yank/alice/hushed/1.0", headers=bob, status=404)
    testapp.post("/api/yank/alice/hushed/1.0", status=404)
