"""One function publishes: every upload entry point reaches it, and a refusal on
any of them leaves nothing (no package, release, label, blob file, index change).

The spy is a real subscriber on the one event :func:`anarepo.services.publishing.publish`
fires (FilePublished); nothing of the storage is replaced.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile

import pytest
import webtest

from anarepo.services.events import FilePublished
from anarepo.package_types.pypi import builders as pypi_builders
from anarepo.plugins import InvalidPackage
from anarepo.testing import csrf_from, web_login
from tests.conda_builders import build_package, write_package


@pytest.fixture
def spy(app):
    seen = []

    def subscriber(event):
        seen.append((event.dist.full_name, event.info.name, event.request is not None))

    app.registry.registerHandler(subscriber, (FilePublished,))
    yield seen
    app.registry.unregisterHandler(subscriber, (FilePublished,))


@pytest.fixture
def people(app):
    for login in ("alice", "bob"):
        app.make_user(login)
    return {login: app.make_token(login, "cli") for login in ("alice", "bob")}


def api_upload(testapp, token, owner, package, version, basename, data, dtype, status=200):
    headers = {"Authorization": f"token {token}"}
    staged = testapp.post_json(f"/api/stage/{owner}/{package}/{version}/{basename}",
                               {"distribution_type": dtype, "sha256": hashlib.sha256(data).hexdigest(),
                                "channels": []}, headers=headers).json
    url = staged["post_url"].split("://", 1)[1].split("/", 1)[1]
    testapp.post("/" + url, list(staged["form_data"].items()), upload_files=[("file", basename, data)], status=201)
    return testapp.post_json(f"/api/commit/{owner}/{package}/{version}/{basename}", {"dist_id": staged["dist_id"]},
                             headers=headers, status=status)


def twine_upload(testapp, token, owner, filename, data, name, version, status=200, label=None):
    fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name), ("version", version),
              ("filetype", "bdist_wheel"), ("sha256_digest", hashlib.sha256(data).hexdigest())]
    auth = base64.b64encode(f"__token__:{token}".encode()).decode()
    path = f"/pypi/{owner}/" + (f"label/{label}/" if label else "")
    return testapp.post(path, params=fields, upload_files=[("content", filename, data)],
                        headers={"Authorization": f"Basic {auth}"}, status=status)


def web_upload(browser, owner, filename, data, status=302, **form):
    token = csrf_from(browser.get("/upload"))
    fields = {"csrf_token": token, "owner": owner, "type": "", "name": "", "version": "", "label": "main",
              "access": "public", **form, "file": webtest.Upload(filename, data)}
    return browser.post("/upload", fields, status=status)


def test_every_entry_point_reaches_the_one_publish(app, testapp, people, spy, tmp_path):
    from anarepo.package_types.conda.admin import import_channel

    conda_fn, conda_data = build_package("tool", "1.0")
    api_upload(testapp, people["alice"], "alice", "tool", "1.0", f"noarch/{conda_fn}", conda_data, "conda")
    assert spy[-1] == (f"alice/tool/1.0/noarch/{conda_fn}", "tool", True)

    wheel_fn, wheel_data = pypi_builders.wheel("wheely", "1.0")
    twine_upload(testapp, people["alice"], "alice", wheel_fn, wheel_data, "wheely", "1.0")
    assert spy[-1] == (f"alice/wheely/1.0/{wheel_fn}", "wheely", True)

    browser = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    web_login(browser, "alice")
    web_upload(browser, "alice", "notes.txt", b"n\n", type="file", name="notes", version="1")
    assert spy[-1] == ("alice/notes/1/notes.txt", "notes", True)

    testapp.post_json("/api/copy/package/alice/tool/1.0/", {"to_owner": "bob"},
                      headers={"Authorization": f"token {people['alice']}"}, status=403)  # not alice's namespace
    testapp.post_json("/api/copy/package/alice/notes/1/", {},
                      headers={"Authorization": f"token {people['bob']}"})  # public: bob copies into his account
    assert spy[-1] == ("bob/notes/1/notes.txt", "notes", True)

    write_package(tmp_path / "channel", "lib", "2.0")
    report = import_channel(app.registry, str(tmp_path / "channel"), "alice")
    assert report.published == 1 and spy[-1] == ("alice/lib/2.0/noarch/lib-2.0-0.tar.bz2", "lib", False)

    app.upload("alice", "data.csv", b"a,b\n", type_name="file", name="data", version="1")
    assert spy[-1] == ("alice/data/1/data.csv", "data", False)
    app.publish_file("alice", "raw", "1", "raw.bin", b"\0")
    assert spy[-1] == ("alice/raw/1/raw.bin", "raw", False)
    assert len(spy) == 7  # one event per published file, none for the refused copy


def blob_files(app) -> list[str]:
    """Every file under the blob directory (committed blobs and spooled temp files)."""
    root = app.db.storage.fshelper.base_dir
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files
                  if not f.startswith(".") and f != "tmp")


def world_state(app) -> dict:
    """Packages, releases, files, labels and index state of every owner, and the blob files."""
    from anarepo.package_types.conda.index import get_channel, snapshot
    from anarepo.package_types.pypi.index import owner_index

    out = {"blobs": blob_files(app)}
    with app.root() as root:
        for login, owner in root.owners.items():
            pindex = owner_index(owner)
            out[login] = {
                "files": sorted(d.full_name for p in owner.packages.values() for d in p.distributions()),
                "releases": sorted(f"{p.name}/{v}" for p in owner.packages.values() for v in p.releases),
                "labels": sorted(owner.labels.keys()),
                "conda": snapshot(get_channel(owner)),
                "pypi": None if pindex is None else {
                    label: (lab.revision, {p: (pi.revision, dict(pi.files)) for p, pi in lab.projects.items()})
                    for label, lab in pindex.labels.items()},
            }
    return out


def test_a_refusal_on_every_entry_point_leaves_nothing(app, testapp, people, spy, tmp_path):
    from anarepo.package_types.conda.admin import import_channel

    app.make_org("acme", "alice")
    with app.root() as root:
        from anarepo.services.orgs import add_group_member, create_group

        acme = root.owners["acme"]
        add_group_member(root, acme, create_group(acme, "writers", "write"), "bob")
        acme.ensure_label("frozen").locked = True
    app.upload("acme", *pypi_builders.wheel("secret", "1.0"), access="private")
    app.upload("alice", *build_package("tool", "1.0"))
    spy.clear()
    before = world_state(app)
    bob, alice = people["bob"], people["alice"]

    # API: a stranger stages into alice's namespace; bob stages into a private package of his org
    fn, data = build_package("tool", "2.0")
    for path in (f"/api/stage/alice/tool/2.0/noarch/{fn}", "/api/stage/acme/secret/2.0/x.whl"):
        testapp.post_json(path, {"distribution_type": "conda", "sha256": hashlib.sha256(data).hexdigest()},
                          headers={"Authorization": f"token {bob}"}, status=403)
    # PyPI: into a private package bob may not see, and to a locked label
    wheel_fn, wheel_data = pypi_builders.wheel("secret", "2.0")
    twine_upload(testapp, bob, "acme", wheel_fn, wheel_data, "secret", "2.0", status=403)
    other_fn, other_data = pypi_builders.wheel("other", "1.0")
    twine_upload(testapp, alice, "acme", other_fn, other_data, "other", "1.0", status=403, label="frozen")
    # web: the write group's member into the private package outside the group (the old hole)
    browser = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    web_login(browser, "bob")
    refused = web_upload(browser, "acme", wheel_fn, wheel_data, status=403)
    assert "permission to upload" in refused.text
    # copy: into a namespace bob may not write
    app.make_user("carol")
    before["carol"] = world_state(app)["carol"]
    testapp.post_json("/api/copy/package/alice/tool/1.0/", {"to_owner": "carol"},
                      headers={"Authorization": f"token {bob}"}, status=403)
    # import and the test helper: a broken package
    bad = tmp_path / "channel" / "noarch"
    bad.mkdir(parents=True)
    (bad / "broken-1.0-0.tar.bz2").write_bytes(b"not a tarball")
    assert len(import_channel(app.registry, str(tmp_path / "channel"), "alice").failed) == 1
    with pytest.raises(InvalidPackage):
        app.upload("alice", "broken-1.0-0.tar.bz2", b"not a tarball", type_name="conda")
    assert spy == []
    assert world_state(app) == before


def test_a_refused_commit_leaves_nothing_but_the_uploaded_bytes_it_had(app, testapp, people, spy):
    """The API's form POST stores the bytes before the commit inspects them: a
    refused commit adds nothing and drops the stage."""
    from anarepo.services import staging

    fn, data = build_package("tool", "1.0")
    headers = {"Authorization": f"token {people['alice']}"}
    basename = f"noarch/{fn.replace('1.0', '9.9')}"
    staged = testapp.post_json(f"/api/stage/alice/tool/9.9/{basename}",
                               {"distribution_type": "conda", "sha256": hashlib.sha256(data).hexdigest()},
                               headers=headers).json
    url = staged["post_url"].split("://", 1)[1].split("/", 1)[1]
    testapp.post("/" + url, list(staged["form_data"].items()), upload_files=[("file", fn, data)], status=201)
    before = world_state(app)
    testapp.post_json(f"/api/commit/alice/tool/9.9/{basename}", {"dist_id": staged["dist_id"]},
                      headers=headers, status=400)
    assert world_state(app) == before and spy == []
    with app.root() as root:
        assert len(staging.staging_area(root).stages) == 0


def test_new_wheels_are_indexed_from_the_inspection_not_the_blob(app, testapp, people, monkeypatch):
    """The PyPI index takes METADATA from what the upload's inspection parsed."""
    from anarepo.package_types.pypi import index

    reads = []
    original = index.read_metadata
    monkeypatch.setattr(index, "read_metadata", lambda *a, **kw: reads.append(a) or original(*a, **kw))
    wheel_fn, wheel_data = pypi_builders.wheel("wheely", "1.0", requires_python=">=3.9")
    twine_upload(testapp, people["alice"], "alice", wheel_fn, wheel_data, "wheely", "1.0")
    app.upload("alice", *pypi_builders.wheel("wheely", "1.1"))
    assert reads == []
    page = testapp.get("/pypi/alice/simple/wheely/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json
    first = next(f for f in page["files"] if f["filename"] == wheel_fn)
    with zipfile.ZipFile(io.BytesIO(wheel_data)) as wheel:
        metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")))
    assert first["requires-python"] == ">=3.9"
    assert first["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}


# -- batches: many files in one transaction -------------------------------------------
def _publish_many(app, owner, files, batch):
    """Publish ``files`` (filename -> bytes) of ``owner`` in one transaction, in a
    ``publishing.batch`` or not; return what each event said its batch was."""
    from anarepo.services import publishing
    from anarepo.storage import blob_tmpdir, spool

    seen = []

    def subscriber(event):
        seen.append(event.batch)

    app.registry.registerHandler(subscriber, (FilePublished,))
    with app.root() as root:
        owner = root.owners[owner]
        ptype = app.registry.package_types["conda"]

        def publish_all():
            for filename, data in files.items():
                spooled = spool(io.BytesIO(data), blob_tmpdir(app.db), max_size=1 << 34)
                info = publishing.inspect_upload(ptype, spooled.path, filename)
                publishing.publish(owner, spooled, ptype, info, uploader="op", operator=app.registry)

        if batch:
            with publishing.batch(app.registry, owner) as opened:
                with publishing.batch(app.registry, owner) as inner:  # nested: the same batch
                    assert inner is opened
                    publish_all()
        else:
            publish_all()
    app.registry.unregisterHandler(subscriber, (FilePublished,))
    return seen


@pytest.mark.parametrize("batch", [True, False])
def test_a_batch_indexes_each_package_once_with_the_same_result(app, testapp, batch):
    """Mirror syncs and imports publish many files per transaction: in a
    ``publishing.batch`` the conda index is written once per package (one
    revision), and reads exactly as file-by-file publishing leaves it."""
    from anarepo.package_types.conda.index import get_channel

    app.make_user("alice")
    files = dict(build_package("tool", version) for version in ("1.0", "1.1", "1.2"))
    seen = _publish_many(app, "alice", files, batch)
    assert len(seen) == 3 and all((b is not None) == batch for b in seen)
    with app.root() as root:
        sub = get_channel(root.owners["alice"]).labels["main"].subdirs["noarch"]
        assert sub.revision.counter == (1 if batch else 3)
    repodata = testapp.get("/conda/alice/noarch/repodata.json").json
    assert sorted(repodata["packages"]) == sorted(fn.split("/")[-1] for fn in files)


def test_changes_outside_a_batch_see_none_even_after_one_ended(app):
    from anarepo.services.events import current_batch
    from anarepo.services import publishing

    app.make_user("alice")
    with app.root() as root:
        owner = root.owners["alice"]
        with publishing.batch(app.registry, owner) as opened:
            assert current_batch(owner) is opened
        assert current_batch(owner) is None
