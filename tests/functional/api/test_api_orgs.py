"""Groups, collaborators and channel notices through the API."""
import pytest


@pytest.fixture
def acme(app, alice, bob):
    app.make_user("carol")
    app.make_org("acme", "alice")
    app.publish_file("acme", "tool", "1", "t.txt", b"t", access="private")
    return alice


def test_groups(app, acme, bob):
    acme.post("/group/acme/devs", {"perms": "write"}, status=204)
    bob.post("/group/acme/hackers", {"perms": "admin"}, status=403)
    acme.post("/group/acme/bad", {"perms": "root"}, status=400)
    again = acme.post("/group/acme/devs", {"perms": "admin"}, status=409)
    assert "exists already" in again.json["error"]
    assert [g["name"] for g in acme.get("/groups/acme").json["groups"]] == ["devs"]
    assert acme.get("/group/acme/devs").json["permission"] == "write"
    bob.get("/groups/acme", status=403)
    acme.put("/group/acme/devs/members/bob", status=204)
    acme.put("/group/acme/devs/members/bob", status=409)
    acme.put("/group/acme/devs/members/nobody", status=404)
    assert acme.get("/group/acme/devs/members").json == [{"login": "bob", "name": "bob"}]
    acme.get("/group/acme/devs/members/bob", status=204)
    acme.get("/group/acme/devs/members/carol", status=404)
    # a member sees the groups it is in, and with the package added, may read and upload to it
    assert bob.get("/groups/acme").json["groups"][0]["permission"] == "write"
    bob.get("/package/acme/tool", status=404)
    acme.put("/group/acme/devs/packages/tool", status=204)
    assert acme.get("/group/acme/devs/packages").json == [{"name": "tool", "full_name": "acme/tool", "summary": ""}]
    bob.get("/package/acme/tool", status=200)
    bob.upload("acme", "tool", "2", "t2.txt", b"t2")
    acme.delete("/group/acme/devs/packages/tool", status=204)
    bob.get("/package/acme/tool", status=404)
    acme.delete("/group/acme/devs/members/bob", status=204)
    acme.get("/group/acme/devs/members/bob", status=404)
    acme.delete("/group/acme/devs", status=204)
    acme.get("/group/acme/devs", status=404)
    acme.get("/groups/alice", status=404)  # a user has no groups


def test_collaborators(app, alice, bob, anon):
    app.publish_file("alice", "data", "1", "a.csv", b"a")
    bob.put("/packages/alice/data/collaborators/bob", status=403)
    alice.put("/packages/alice/data/collaborators/bob", status=201)
    alice.put("/packages/alice/data/collaborators/bob", status=409)
    alice.put("/packages/alice/data/collaborators/nobody", status=404)
    assert [c["login"] for c in alice.get("/packages/alice/data/collaborators").json] == ["bob"]
    anon.get("/packages/alice/data/collaborators", status=401)
    bob.upload("alice", "data", "1", "b.csv", b"b")
    alice.delete("/packages/alice/data/collaborators/bob", status=201)
    bob.stage("alice", "data", "1", "c.csv", b"c", status=403)


def test_notices(app, alice, bob, anon):
    created = alice.post("/alice/notices", {"message": "Maintenance tonight", "level": "warning",
                                            "expires_at": "2099-01-01T00:00:00+00:00"}, status=201).json
    assert created["status"] == "draft" and created["id"]
    assert anon.get("/alice/notices").json == {"items": [], "total_count": 0}
    assert alice.get("/alice/notices").json["total_count"] == 1
    bob.post("/alice/notices", {"message": "x"}, status=403)
    bob.post(f"/alice/notices/{created['id']}/publish", status=403)
    alice.post(f"/alice/notices/{created['id']}/publish", status=200)
    items = anon.get("/alice/notices").json["items"]
    assert [n["message"] for n in items] == ["Maintenance tonight"] and items[0]["status"] == "published"
    alice.patch(f"/alice/notices/{created['id']}", {"message": "Changed"})
    assert anon.get(f"/alice/notices/{created['id']}").json["message"] == "Changed"
    alice.post(f"/alice/notices/{created['id']}/archive", status=200)
    anon.get(f"/alice/notices/{created['id']}", status=404)
    assert alice.get("/alice/notices", params={"status": "archived"}).json["total_count"] == 1
    alice.post("/alice/notices", {"message": "x" * 601}, status=400)
    alice.post("/alice/notices", {"message": "x", "level": "loud"}, status=400)
    alice.post("/alice/notices", {"message": "x", "expires_at": "tomorrow"}, status=400)
    alice.delete(f"/alice/notices/{created['id']}", status=204)
    alice.get(f"/alice/notices/{created['id']}", status=404)
    # fixed routes are not shadowed by the owner-prefixed ones
    assert alice.get("/user").json["login"] == "alice"


def test_packages_made_by_read_write_members_get_their_groups_rights(app, acme, bob, anon):
    """Issue 15: the member who may create a package in the org may also upload
    into it, delete it while it is empty, but not delete it once it has files."""
    acme.post("/group/acme/devs", {"perms": "write"}, status=204)
    acme.put("/group/acme/devs/members/bob", status=204)
    bob.post("/package/acme/made", {"public": False, "summary": "by bob"}, status=200)
    assert [p["name"] for p in acme.get("/group/acme/devs/packages").json] == ["made"]
    bob.upload("acme", "made", "1", "m.txt", b"m")
    anon.get("/package/acme/made", status=404)
    bob.delete("/package/acme/made", status=403)  # files in it: needs admin
    bob.post("/package/acme/empty", {"summary": "nothing yet"}, status=200)
    bob.delete("/package/acme/empty", status=201)  # what anaconda upload does after a refused upload
    assert [p["name"] for p in acme.get("/group/acme/devs/packages").json] == ["made"]
    # a deleted package leaves its groups: a new one of the same name starts with no group's rights
    acme.put("/group/acme/devs/packages/tool", status=204)
    acme.delete("/package/acme/tool", status=201)
    app.publish_file("acme", "tool", "1", "t.txt", b"t", access="private")
    acme.put("/group/acme/devs/members/carol", status=204)
    bob.get("/package/acme/tool", status=404)
    # an org owner's packages join no group
    acme.post("/package/acme/owned", {"summary": "by alice"}, status=200)
    assert "owned" not in [p["name"] for p in acme.get("/group/acme/devs/packages").json]
