"""Mirror mode for conda: a rattler-indexed upstream channel copied into a label."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conda_builders import write_package
import pytest

from tests.upstreams import drop_shards, index_channel, touch_later

from .conftest import add, sync


def repodata(testapp, path="/conda/alice"):
    out = {}
    for subdir in ("noarch", "linux-64"):
        doc = testapp.get(f"{path}/{subdir}/repodata.json").json
        out.update({f"{subdir}/{fn}": rec for fn, rec in {**doc["packages"], **doc["packages.conda"]}.items()})
    return out


def test_sync_copies_every_file_verified_into_the_label(mirror_app, testapp, conda_upstream):
    add(mirror_app, url=conda_upstream.url, subdirs=("noarch", "linux-64"), label="forge")
    run = sync(mirror_app)
    assert run["failed"] == 0 and run["added"] == 7, run
    upstream = Path(conda_upstream.directory)
    local = repodata(testapp, "/conda/alice/label/forge")
    assert sorted(local) == sorted(
        str(p.relative_to(upstream)) for p in upstream.glob("*/*") if p.name.endswith((".conda", ".tar.bz2")))
    for key, rec in local.items():
        theirs = json.loads((upstream / key.split("/")[0] / "repodata.json").read_text())
        up = {**theirs["packages"], **theirs["packages.conda"]}[key.split("/")[1]]
        assert (rec["sha256"], rec["size"], rec["depends"]) == (up["sha256"], up["size"], up["depends"])
        body = testapp.get(f"/conda/alice/label/forge/{key}").body
        assert body == (upstream / key).read_bytes()
    assert repodata(testapp) == {}  # main stays empty: only the source's label
    # the mirrored files are ordinary packages: API and web see them
    assert testapp.get("/api/package/alice/tool").json["versions"] == ["1.0", "2.0", "3.0"]


DOCUMENTS = ("repodata.json", ".msgpack.zst")


@pytest.mark.parametrize("shards", [True, False], ids=["shards", "repodata.json"])
def test_resync_fetches_only_what_changed_and_removes_what_left(mirror_app, testapp, conda_upstream, shards):
    """With CEP-16 shards upstream only the shard index is read again, and only the shards
    whose hash changed; without them, repodata.json (conditionally)."""
    channel = Path(conda_upstream.directory)
    if not shards:
        drop_shards(channel)
    # without shards: a probe for the shard index (404), then repodata.json
    index_docs = ["repodata_shards.msgpack.zst"] + ([] if shards else ["repodata.json"])
    add(mirror_app, url=conda_upstream.url, subdirs=("noarch", "linux-64"), remove_missing=True)
    assert sync(mirror_app)["added"] == 7
    conda_upstream.misbehave.clear()
    again = sync(mirror_app)
    assert (again["added"], again["removed"], again["failed"]) == (0, 0, 0)
    assert [p for p, _ in conda_upstream.misbehave.requests] == [
        f"/{subdir}/{doc}" for subdir in ("noarch", "linux-64") for doc in index_docs]
    assert all(ims for p, ims in conda_upstream.misbehave.requests  # conditional requests
               if shards or p.endswith("repodata.json"))
    # upstream gains tool 4.0 and loses tool 1.0
    write_package(channel, "tool", "4.0", "0")
    (channel / "noarch" / "tool-1.0-0.tar.bz2").unlink()
    index_channel(channel)
    if not shards:
        drop_shards(channel)
    conda_upstream.misbehave.clear()
    third = sync(mirror_app)
    assert (third["added"], third["removed"], third["failed"]) == (1, 1, 0), third
    requested = [p for p, _ in conda_upstream.misbehave.requests]
    assert [p for p in requested if not p.endswith(DOCUMENTS)] == ["/noarch/tool-4.0-0.tar.bz2"]
    if shards:  # only tool's shard changed: gplthing's and libdep's were not fetched again
        assert [p for p in requested if "/shards/" in p] == [
            f"/noarch/shards/{p.name}" for p in (channel / "noarch" / "shards").iterdir()
            if p.name in {r.rsplit("/", 1)[-1] for r in requested}]
        assert len([p for p in requested if "/shards/" in p]) == 1
    names = sorted(repodata(testapp))
    assert "noarch/tool-4.0-0.tar.bz2" in names and "noarch/tool-1.0-0.tar.bz2" not in names
    assert testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2", status=404)


def test_upstream_removed_and_patched_records_are_honoured(mirror_app, testapp, conda_upstream):
    drop_shards(conda_upstream.directory)  # the test edits repodata.json by hand
    add(mirror_app, url=conda_upstream.url)
    assert sync(mirror_app)["added"] == 4
    path = Path(conda_upstream.directory) / "noarch" / "repodata.json"
    doc = json.loads(path.read_text())
    doc["removed"] = ["tool-2.0-0.tar.bz2"]
    del doc["packages"]["tool-2.0-0.tar.bz2"]
    doc["packages"]["tool-1.0-0.tar.bz2"]["depends"] = ["python >=3.8"]  # a repodata patch
    path.write_text(json.dumps(doc))
    touch_later(conda_upstream.directory)
    run = sync(mirror_app)
    assert (run["removed"], run["patched"], run["failed"]) == (1, 1, 0), run
    local = repodata(testapp)
    assert "noarch/tool-2.0-0.tar.bz2" not in local
    assert local["noarch/tool-1.0-0.tar.bz2"]["depends"] == ["python >=3.8"]
    shard_index = testapp.get("/conda/alice/noarch/repodata_shards.msgpack.zst")
    assert shard_index.status_int == 200


def test_an_interrupted_sync_resumes_without_fetching_twice(mirror_app, testapp, conda_upstream):
    add(mirror_app, url=conda_upstream.url)
    conda_upstream.misbehave.rules["/noarch/tool-3.0-0.conda"] = {"status": 503}
    first = sync(mirror_app, batch=1)
    assert (first["added"], first["failed"]) == (3, 1)
    conda_upstream.misbehave.clear()
    second = sync(mirror_app)
    assert (second["added"], second["failed"]) == (1, 0)
    fetched = [p for p, _ in conda_upstream.misbehave.requests if not p.endswith(DOCUMENTS)]
    assert fetched == ["/noarch/tool-3.0-0.conda"]
    assert len(repodata(testapp)) == 4


def test_a_local_upload_with_the_same_name_is_never_overwritten(mirror_app, testapp, conda_upstream, tmp_path):
    from tests.conda_builders import build_package, publish_conda

    fn, data = build_package("tool", "1.0", "0", payload={"share/own.txt": b"local build\n"})
    publish_conda(mirror_app, "alice", f"noarch/{fn}", data)
    add(mirror_app, url=conda_upstream.url, merge_local=True)  # else the upstream's tool is shadowed
    run = sync(mirror_app)
    assert run["added"] == 3 and run["failed"] == 1
    assert "exists" in run["errors"][0]
    assert testapp.get(f"/conda/alice/noarch/{fn}").body == data


def test_an_upload_the_mirror_finds_with_the_same_bytes_is_never_removed_by_it(mirror_app, testapp, conda_upstream):
    """A mirror adopts a local file identical to an upstream one; when the upstream drops
    it (or it leaves the filter) the upload stays: it was never the source's to remove."""
    from pathlib import Path

    from tests.conda_builders import publish_conda

    from .conftest import add, sync

    data = (Path(conda_upstream.directory) / "noarch" / "tool-1.0-0.tar.bz2").read_bytes()
    publish_conda(mirror_app, "alice", "noarch/tool-1.0-0.tar.bz2", data)
    add(mirror_app, url=conda_upstream.url, filters={"names": ["tool"]}, remove_missing=True, merge_local=True)
    assert sync(mirror_app)["failed"] == 0
    with mirror_app.root() as root:
        root.owners["alice"].sources["up"].configure(filters={"names": ["tool"], "latest": 1})
    run = sync(mirror_app)
    assert run["removed"] == 1, run  # tool-2.0, the source's own
    files = testapp.get("/conda/alice/noarch/repodata.json").json
    assert sorted({**files["packages"], **files["packages.conda"]}) == ["tool-1.0-0.tar.bz2", "tool-3.0-0.conda"]
    with mirror_app.root() as root:
        upload = root.owners["alice"].get_package("tool").releases["1.0"].files["noarch/tool-1.0-0.tar.bz2"]
        assert upload.uploader == "alice"
