"""Labels (channels), copy and move: file counts, locks, owners, index updates."""
import pytest

from tests.clients.anaconda_builders import conda_tar_bz2

BZ2 = "noarch/mypkg-1.0-py_0.tar.bz2"


@pytest.fixture
def shelf(app, alice):
    alice.upload("alice", "mypkg", "1.0", BZ2, conda_tar_bz2("mypkg", "1.0"), dtype="conda", channels=["dev"])
    app.publish_file("alice", "data", "1", "a.csv", b"a")
    app.publish_file("alice", "data", "1", "b.csv", b"b", labels=["dev", "main"])
    return alice


def labels_of(api, full):
    return api.get("/dist/" + full).json["labels"]


def test_list_and_show(shelf, anon):
    listing = anon.get("/channels/alice").json
    assert listing == {"main": {"is_locked": False, "num_files": 2}, "dev": {"is_locked": False, "num_files": 2}}
    shown = anon.get("/channels/alice/dev").json
    assert shown["is_locked"] is False
    assert sorted(f["full_name"] for f in shown["files"]) == ["alice/data/1/b.csv", f"alice/mypkg/1.0/{BZ2}"]
    anon.get("/channels/alice/nope", status=404)
    anon.get("/channels/nobody", status=404)


def test_private_files_are_not_counted_for_others(app, alice, anon):
    app.publish_file("alice", "secret", "1", "s.csv", b"s", access="private")
    assert anon.get("/channels/alice").json["main"]["num_files"] == 0
    assert alice.get("/channels/alice").json["main"]["num_files"] == 1
    assert anon.get("/channels/alice/main").json["files"] == []


def test_copy_lock_unlock_remove(shelf, bob, anon):
    shelf.post("/channels/alice/dev/copy/stable", status=201)
    assert labels_of(anon, f"alice/mypkg/1.0/{BZ2}") == ["dev", "stable"]
    # the conda index follows the label
    assert "mypkg-1.0-py_0.tar.bz2" in anon.testapp.get("/conda/alice/label/stable/noarch/repodata.json").json["packages"]
    bob.post("/channels/alice/stable/lock", status=403)
    shelf.post("/channels/alice/stable/lock", status=201)
    assert anon.get("/channels/alice").json["stable"]["is_locked"] is True
    for refused in (shelf.delete("/channels/alice/stable", {"package": None, "version": None, "basename": None},
                                 status=403),
                    shelf.post("/channels/alice/main/copy/stable", status=403),
                    shelf.delete(f"/dist/alice/mypkg/1.0/{BZ2}", status=403)):
        assert "locked" in refused.json["error"]
    shelf.delete("/channels/alice/stable/lock", status=201)
    shelf.delete("/channels/alice/stable", {"package": None, "version": None, "basename": None}, status=201)
    assert "stable" not in anon.get("/channels/alice").json
    assert labels_of(anon, f"alice/mypkg/1.0/{BZ2}") == ["dev"]
    assert "mypkg-1.0-py_0.tar.bz2" not in anon.testapp.get("/conda/alice/label/stable/noarch/repodata.json",
                                                            status=(200, 404)).text


def test_move_as_the_cli_does(shelf, bob, anon):
    body = {"package": "data", "version": "1", "basename": None}
    bob.post("/channels/alice/beta", body, status=403)
    shelf.post("/channels/alice/beta", body, status=201)
    shelf.delete("/channels/alice/main", body, status=201)
    assert labels_of(anon, "alice/data/1/a.csv") == ["beta"]
    assert labels_of(anon, "alice/data/1/b.csv") == ["beta", "dev"]
    shelf.post("/channels/alice/beta", {"package": "nope", "version": None, "basename": None}, status=404)
    shelf.post("/channels/alice/beta", {"package": None, "version": "1", "basename": None}, status=400)
    shelf.post("/channels/alice/Bad Label", body, status=400)


def test_copy_between_labels_and_owners(app, shelf, bob, anon):
    copied = shelf.post("/copy/package/alice/data/1/", {"to_owner": None, "from_channel": "main",
                                                        "to_channel": "test"}).json
    assert sorted(d["basename"] for d in copied) == ["a.csv", "b.csv"]
    assert labels_of(anon, "alice/data/1/a.csv") == ["main", "test"]
    app.make_org("acme", "alice")
    body = {"to_owner": "acme", "from_channel": "main", "to_channel": "main"}
    copied = shelf.post("/copy/package/alice/data/1/a.csv", body).json
    assert [d["full_name"] for d in copied] == ["acme/data/1/a.csv"]
    assert anon.get("/dist/acme/data/1/a.csv").json["sha256"] == anon.get("/dist/alice/data/1/a.csv").json["sha256"]
    shelf.post("/copy/package/alice/data/1/a.csv", body, status=409)
    shelf.put("/copy/package/alice/data/1/a.csv", body, status=200)
    assert shelf.patch("/copy/package/alice/data/1/", body).json
    assert sorted(f["basename"] for f in anon.get("/package/acme/data").json["files"]) == ["a.csv", "b.csv"]
    bob.post("/copy/package/alice/data/1/a.csv", body, status=403)
    # the copy shares the blob; removing the original leaves the copy whole
    shelf.delete("/package/alice/data", status=201)
    download = anon.get("/download/acme/data/1/a.csv", status=302)
    assert anon.testapp.get(download.location.replace("http://localhost", "")).body == b"a"


def test_removals_that_would_leave_a_file_on_no_label_are_refused(shelf, anon):
    """Removing ``main`` as a whole, or a file's last label, would leave files in
    no channel (issue 15): 409 with the reason, and nothing changes."""
    before = anon.get("/channels/alice").json
    refused = shelf.delete("/channels/alice/main", {"package": None, "version": None, "basename": None}, status=409)
    assert "default label" in refused.json["error"]
    refused = shelf.delete("/channels/alice/main", {"package": "data", "version": "1", "basename": "a.csv"},
                           status=409)
    assert "no channel" in refused.json["error"]
    refused = shelf.delete("/channels/alice/dev", {"package": None, "version": None, "basename": None}, status=409)
    assert "no channel" in refused.json["error"]
    assert anon.get("/channels/alice").json == before
    assert labels_of(anon, f"alice/mypkg/1.0/{BZ2}") == ["dev"]
    assert labels_of(anon, "alice/data/1/a.csv") == ["main"]
    assert "mypkg-1.0-py_0.tar.bz2" in anon.testapp.get("/conda/alice/label/dev/noarch/repodata.json").json["packages"]
    # a file on two labels may leave either
    shelf.delete("/channels/alice/dev", {"package": "data", "version": "1", "basename": "b.csv"}, status=201)
    assert labels_of(anon, "alice/data/1/b.csv") == ["main"]

