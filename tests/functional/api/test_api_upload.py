"""The three-step upload: stage, the credential-less form POST, commit."""
import hashlib
from datetime import timedelta

import pytest
from tests.clients.anaconda_builders import conda_tar_bz2, conda_v2

from anarepo.services import staging
from anarepo.clock import utcnow
from anarepo.http.retry import retry_attempts


def _nothing_stored(app, owner="alice"):
    with app.root() as root:
        area = staging.staging_area(root)
        return len(root.owners[owner].packages) == 0 and (area is None or len(area.stages) == 0)


def test_stage_answers_absolute_url_flat_form_and_id(alice):
    staged = alice.stage("alice", "data", "1.0", "noarch/x.txt", b"abc").json
    assert staged["post_url"].startswith("http://localhost/api/s3upload/")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in staged["form_data"].items())
    assert staged["dist_id"] in staged["post_url"]


def test_post_url_never_carries_the_path_token(app, testapp, alice):
    data = b"abc"
    response = testapp.post_json(f"/t/{alice.token}/api/stage/alice/data/1.0/x.txt", {
        "distribution_type": "file", "sha256": hashlib.sha256(data).hexdigest(), "channels": []})
    assert alice.token not in response.json["post_url"]
    assert response.json["post_url"].startswith("http://localhost/api/s3upload/")


def test_full_upload_publishes_atomically(app, alice, anon):
    data = b"hello world"
    staged = alice.stage("alice", "data", "1.0", "sub/my data+1.txt", data, channels=["dev"]).json
    anon.get("/package/alice/data", status=404)  # staged is not visible
    alice.s3(staged, data, "sub/my data+1.txt")
    anon.get("/package/alice/data", status=404)  # uploaded is not visible either
    committed = alice.commit("alice", "data", "1.0", "sub/my data+1.txt", staged["dist_id"]).json
    assert committed["url"] == "http://localhost/alice/data"
    assert committed["labels"] == ["dev"] and committed["size"] == len(data)
    assert committed["md5"] == hashlib.md5(data).hexdigest()
    dist = anon.get("/dist/alice/data/1.0/sub/my data+1.txt").json
    assert dist["sha256"] == hashlib.sha256(data).hexdigest() and dist["type"] == "file"
    assert anon.get("/package/alice/data").json["package_types"] == ["file"]
    with app.root() as root:
        assert all(s.used for s in staging.staging_area(root).stages.values())
    # the id was used: a second commit or form POST is refused
    alice.commit("alice", "data", "1.0", "sub/my data+1.txt", staged["dist_id"], status=404)
    refused = alice.s3(staged, data, "x", status=403)
    assert b"<Code>AccessDenied</Code>" in refused.body


def test_empty_channels_mean_main(alice):
    assert alice.upload("alice", "data", "1", "a.txt", b"a").json["labels"] == ["main"]


@pytest.mark.parametrize("case", ["md5", "sha256", "length"])
def test_form_post_checks_the_bytes(app, alice, case):
    data = b"the real content"
    staged = alice.stage("alice", "data", "1.0", "x.txt", data).json
    if case == "md5":
        response = alice.s3(staged, data, md5="mUVlkJi78fCLtthfNy+Gkw==", status=400)
    elif case == "sha256":
        staged_other = alice.stage("alice", "data", "1.0", "x.txt", b"other").json
        response = alice.s3(staged_other, data, status=400)
    else:
        response = alice.s3(staged, data, length=len(data) + 5, status=400)
    code = "IncompleteBody" if case == "length" else "InvalidDigest"
    assert f"<Code>{code}</Code>".encode() in response.body
    assert response.content_type == "application/xml"
    alice.commit("alice", "data", "1.0", "x.txt", staged["dist_id"], status=400)
    with app.root() as root:
        assert all(not s.uploaded for s in staging.staging_area(root).stages.values())
        assert len(root.owners["alice"].packages) == 0


def test_form_post_needs_a_known_id_and_a_file(alice, testapp):
    refused = testapp.post("/api/s3upload/" + "x" * 43, {"key": "x"}, upload_files=[("file", "f", b"1")], status=403)
    assert b"<Code>AccessDenied</Code>" in refused.body
    staged = alice.stage("alice", "data", "1.0", "x.txt", b"1").json
    no_file = testapp.post(staged["post_url"].replace("http://localhost", ""), staged["form_data"], status=400)
    assert b"<Code>" in no_file.body
    garbage = testapp.post(staged["post_url"].replace("http://localhost", ""), b"garbage",
                           headers={"Content-Type": "multipart/form-data; boundary=zzz"}, status=400)
    assert b"MalformedPOSTRequest" in garbage.body


def test_upload_size_limit(app, testapp, alice):
    app.registry.settings["anarepo.max_upload_size"] = 10
    data = b"x" * 11
    staged = alice.stage("alice", "data", "1.0", "x.txt", data).json
    assert b"EntityTooLarge" in alice.s3(staged, data, status=400).body
    assert b"EntityTooLarge" in alice.s3(staged, data, length=5, status=400).body


@pytest.mark.parametrize("basename", ["%2E%2E/etc/passwd", "a/%2E%2E/b.txt", "a/b/c.txt", ".hidden/x", "x%5Cy.txt"])
def test_path_tricks_are_refused_at_stage(app, alice, basename):
    response = alice.stage("alice", "data", "1.0", basename, b"x", status=400)
    assert "file name" in response.json["error"]
    assert _nothing_stored(app)


def test_stage_refusals(app, alice, bob, anon):
    alice.stage("alice", "data", "1.0", "x.txt", b"x", dtype="nonsense", status=400)
    alice.stage("alice", "data", "1.0", "x.txt", b"x", sha256="abc", status=400)
    alice.stage("alice", "data", "1.0", "x.txt", b"x", channels=[1], status=400)
    anon.stage("alice", "data", "1.0", "x.txt", b"x", status=401)
    assert bob.stage("alice", "data", "1.0", "x.txt", b"x", status=403).json["error"]
    alice.stage("nobody", "data", "1.0", "x.txt", b"x", status=404)
    assert _nothing_stored(app)
    alice.upload("alice", "data", "1.0", "x.txt", b"x")
    conflict = alice.stage("alice", "data", "1.0", "x.txt", b"y", status=409)
    assert "already exists" in conflict.json["error"]
    alice.stage("alice", "data", "1.0", "y.whl", b"x", dtype="conda", status=409)  # a file package


def test_commit_refusals(alice, bob):
    data = b"x"
    staged = alice.stage("alice", "data", "1.0", "x.txt", data).json
    alice.s3(staged, data)
    alice.commit("alice", "data", "1.0", "y.txt", staged["dist_id"], status=400)
    alice.commit("alice", "data", "1.0", "x.txt", "not-an-id", status=404)
    bob.commit("alice", "data", "1.0", "x.txt", staged["dist_id"], status=403)
    alice.commit("alice", "data", "1.0", "x.txt", staged["dist_id"], status=200)


def test_locked_label_refuses_uploads(app, alice):
    alice.upload("alice", "data", "1.0", "a.txt", b"a", channels=["stable"])
    alice.post("/channels/alice/stable/lock", status=201)
    locked = alice.stage("alice", "data", "1.0", "b.txt", b"b", channels=["stable"], status=403)
    assert "locked" in locked.json["error"]


def test_stages_expire_and_leave_nothing(app, alice):
    data = b"never committed"
    staged = alice.stage("alice", "data", "1.0", "x.txt", data).json
    alice.s3(staged, data)
    with app.root() as root:
        assert staging.expire(root, now=utcnow() + timedelta(hours=25)) == 1
    alice.commit("alice", "data", "1.0", "x.txt", staged["dist_id"], status=404)
    assert _nothing_stored(app)


def test_conda_packages_are_inspected_at_commit(app, alice, anon):
    good = conda_tar_bz2("mypkg", "1.0", depends=["python >=3.8"])
    alice.post("/package/alice/mypkg", {"public": True, "public_attrs": {"summary": "S"}})
    alice.post("/release/alice/mypkg/1.0", {})
    dist = alice.upload("alice", "mypkg", "1.0", "noarch/mypkg-1.0-py_0.tar.bz2", good, dtype="conda").json
    assert dist["attrs"]["subdir"] == "noarch" and dist["type"] == "conda"
    v2 = conda_v2("mypkg", "1.0", build="h1_0", subdir="linux-64")
    alice.upload("alice", "mypkg", "1.0", "linux-64/mypkg-1.0-h1_0.conda", v2, dtype="conda")
    package = anon.get("/package/alice/mypkg").json
    assert package["conda_platforms"] == ["linux-64", "noarch"]
    # the conda channel sees the committed files
    repodata = anon.testapp.get("/conda/alice/noarch/repodata.json").json
    assert "mypkg-1.0-py_0.tar.bz2" in repodata["packages"]


@pytest.mark.parametrize("case", ["corrupt", "wrong-name", "wrong-subdir"])
def test_bad_conda_packages_are_refused_and_leave_no_trace(app, alice, case):
    basename = "noarch/mypkg-1.0-py_0.tar.bz2"
    data = {"corrupt": b"BZh9 this is not a package",
            "wrong-name": conda_tar_bz2("other", "1.0"),
            "wrong-subdir": conda_tar_bz2("mypkg", "1.0", subdir="linux-64")}[case]
    if case == "wrong-subdir":
        basename = "noarch/mypkg-1.0-py_0.tar.bz2"
    staged = alice.stage("alice", "mypkg", "1.0", basename, data, dtype="conda").json
    alice.s3(staged, data)
    refused = alice.commit("alice", "mypkg", "1.0", basename, staged["dist_id"], status=400)
    assert refused.json["error"]
    assert _nothing_stored(app)


def test_retry_hook_disables_body_copies_only_for_the_form_post(testapp):
    class R:
        def __init__(self, method, path):
            self.method, self.environ = method, {"PATH_INFO": path}

    assert retry_attempts(R("POST", "/api/s3upload/abc")) == 1
    assert retry_attempts(R("POST", "/api/stage/a/b/1/x")) is None
    from pyramid.path import DottedNameResolver

    hook = testapp.app.app.registry.settings["retry.activate_hook"]
    assert DottedNameResolver().maybe_resolve(hook) is retry_attempts


def test_release_attributes_with_a_pypi_sized_description(app, alice, anon):
    """anaconda-client sends a wheel's whole long description in the release
    attributes; pydantic's is 93 KB and black's 141 KB (issue 15)."""
    description = "Changelog entry with a few words in it.\n" * 3600  # 144 KB
    alice.post("/package/alice/black", {"public": True, "public_attrs": {"summary": "S"}})
    alice.post("/release/alice/black/24.1.0", {"requirements": [], "announce": False, "description": description,
                                               "home_page": "https://github.com/psf/black", "summary": "S"})
    assert anon.get("/release/alice/black/24.1.0").json["description"] == description
    alice.post("/release/alice/black/24.2.0", {"description": description, "junk": "y" * (300 << 10)}, status=400)


def test_packages_whose_license_field_is_the_whole_license_text(alice, anon):
    """Markdown 3.6's METADATA carries the full BSD text as License (1,500 characters):
    PyPI limits no license length and anaconda-client sends it as is (issue 15)."""
    text = "Copyright 2007, 2008 The Python Markdown Project\n" + "Redistribution and use ... " * 60
    alice.post("/package/alice/Markdown", {"public": True, "public_attrs": {"summary": "S", "license": text}})
    assert anon.get("/package/alice/Markdown").json["license"] == text


def test_package_attributes_as_conda_forge_about_json_gives_them(alice, anon):
    """anaconda-client sends about.json's fields as they are: conda-forge lists several
    URLs for home and dev_url (issue 15: "dev_url must be a string")."""
    alice.post("/package/alice/tzdata", {"public": True, "public_attrs": {
        "summary": "S", "home": ["https://www.iana.org/time-zones", "https://github.com/eggert/tz"],
        "dev_url": ["https://github.com/eggert/tz"], "doc_url": [], "license": "LicenseRef-Public-Domain"}})
    package = anon.get("/package/alice/tzdata").json
    assert package["home"] == "https://www.iana.org/time-zones" and package["dev_url"] == "https://github.com/eggert/tz"
