"""Packages, releases and files: GET/POST/PATCH/DELETE, lists, privacy, search."""
import pytest


@pytest.fixture
def alice_data(app, alice):
    alice.post("/package/alice/data", {"public": True, "publish": False,
                                       "public_attrs": {"summary": "Numbers", "license": {"name": "MIT", "url": None}}})
    alice.post("/release/alice/data/1.0", {"requirements": [], "announce": None, "description": "First"})
    alice.upload("alice", "data", "1.0", "a.csv", b"1,2")
    return alice


def test_package_lifecycle(app, alice_data, anon):
    package = anon.get("/package/alice/data").json
    assert package["summary"] == "Numbers" and package["license"] == "MIT" and package["public"] is True
    assert package["package_types"] == ["file"] and package["owner"]["login"] == "alice"
    assert package["releases"] == [{"version": "1.0", "distributions": ["a.csv"]}]
    assert [f["basename"] for f in package["files"]] == ["a.csv"] and package["files"][0]["version"] == "1.0"
    conflict = alice_data.post("/package/alice/data", {"public_attrs": {"summary": "again"}}, status=409)
    assert "exists already" in conflict.json["error"]
    patched = alice_data.patch("/package/alice/data", {"public_attrs": {"summary": "Better", "home": "https://x"}}).json
    assert patched["summary"] == "Better" and patched["home"] == "https://x"
    alice_data.delete("/package/alice/data", status=201)
    anon.get("/package/alice/data", status=404)
    alice_data.delete("/package/alice/data", status=404)


def test_private_packages_are_invisible_to_others(app, alice, bob, anon):
    alice.post("/package/alice/secret", {"public": False, "public_attrs": {"summary": "S"}})
    assert alice.get("/package/alice/secret").json["access"] == "private"
    assert anon.get("/package/alice/secret", status=404).json["error"] == "package alice/secret not found"
    bob.get("/package/alice/secret", status=404)
    bob.delete("/package/alice/secret", status=404)
    assert [p["name"] for p in alice.get("/packages/alice").json] == ["secret"]
    assert anon.get("/packages/alice").json == []
    # making it public through PATCH
    alice.patch("/package/alice/secret", {"public": True})
    anon.get("/package/alice/secret", status=200)


def test_private_packages_need_the_site_setting(app, alice):
    app.registry.settings["anarepo.allow_private"] = False
    refused = alice.post("/package/alice/secret", {"public": False}, status=400)
    assert "private" in refused.json["error"]
    alice.get("/package/alice/secret", status=404)


def test_write_permissions(app, alice_data, bob, anon):
    anon.post("/package/alice/other", {}, status=401)
    bob.post("/package/alice/other", {}, status=403)
    bob.patch("/package/alice/data", {"public_attrs": {"summary": "hacked"}}, status=403)
    bob.delete("/package/alice/data", status=403)
    bob.delete("/dist/alice/data/1.0/a.csv", status=403)
    bob.delete("/release/alice/data/1.0", status=403)
    assert alice_data.get("/package/alice/data").json["summary"] == "Numbers"
    alice_data.post("/package/alice/bad name", {}, status=400)


def test_release_lifecycle(alice_data, anon):
    release = anon.get("/release/alice/data/1.0").json
    assert [d["basename"] for d in release["distributions"]] == ["a.csv"]
    assert release["public_attrs"]["description"] == "First"
    alice_data.post("/release/alice/data/1.0", {}, status=409)
    alice_data.patch("/release/alice/data/1.0", {"public_attrs": {"description": "Changed"}})
    assert anon.get("/release/alice/data/1.0").json["description"] == "Changed"
    alice_data.post("/release/alice/data/2.0", {"description": None, "summary": "S"})
    assert anon.get("/release/alice/data/2.0").json["distributions"] == []
    alice_data.delete("/release/alice/data/2.0", status=201)
    anon.get("/release/alice/data/2.0", status=404)
    alice_data.post("/release/alice/nopkg/1.0", {}, status=404)


def test_dist_get_and_delete(alice_data, anon):
    dist = anon.get("/dist/alice/data/1.0/a.csv").json
    assert "description" in dist and dist["basename"] == "a.csv" and dist["full_name"] == "alice/data/1.0/a.csv"
    assert anon.get("/dist/alice/data/1.0/nope.csv", status=404).json["error"] == "file not found"
    removed = alice_data.delete("/dist/alice/data/1.0/a.csv", status=200)
    assert removed.json["basename"] == "a.csv"
    anon.get("/dist/alice/data/1.0/a.csv", status=404)
    assert anon.get("/package/alice/data").json["package_types"] == []


def test_package_lists_filter(app, alice):
    app.publish_file("alice", "data", "1", "d.csv", b"x")
    from tests.clients.anaconda_builders import conda_tar_bz2

    alice.upload("alice", "mypkg", "1.0", "noarch/mypkg-1.0-py_0.tar.bz2", conda_tar_bz2("mypkg", "1.0"),
                 dtype="conda")
    names = lambda **q: sorted(p["name"] for p in alice.get("/packages/alice", params=q).json)  # noqa: E731
    assert names() == ["data", "mypkg"]
    assert names(package_type="conda") == ["mypkg"]
    assert names(type="file") == ["data"]
    assert names(platform="noarch") == ["mypkg"]
    assert names(access="private") == []
    assert sorted(p["full_name"] for p in alice.get("/packages").json) == ["alice/data", "alice/mypkg"]


def test_search(app, alice, bob, anon):
    app.publish_file("alice", "numbers", "1", "n.csv", b"x")
    app.publish_file("alice", "secret-numbers", "1", "s.csv", b"x", access="private")
    assert [p["full_name"] for p in anon.get("/search", params={"name": "numb"}).json] == ["alice/numbers"]
    found = alice.get("/search", params={"name": "numb"}).json
    assert sorted(p["full_name"] for p in found) == ["alice/numbers", "alice/secret-numbers"]
    assert anon.get("/search", params={"name": "numb", "type": "conda"}).json == []
    assert anon.get("/search", params={"name": "numb", "type": "nonsense"}).json == []
