"""The legacy upload API: success, idempotence, conflicts, and refusals that change nothing."""
from __future__ import annotations

import base64
import hashlib

import pytest

from anarepo.package_types.pypi import builders

from .conftest import JSON, basic, upload_fields


def files_of(testapp, project, owner="alice", label=None, headers=None):
    base = f"/pypi/{owner}" + (f"/label/{label}" if label else "")
    r = testapp.get(f"{base}/simple/{project}/", headers={"Accept": JSON, **(headers or {})}, status="*")
    return [] if r.status_int == 404 else [f["filename"] for f in r.json["files"]]


def snapshot(app):
    """Everything an upload could change: packages, releases, files, labels."""
    with app.root() as root:
        out = {}
        for login, owner in root.owners.items():
            for key, package in owner.packages.items():
                for version, release in package.releases.items():
                    for name, dist in release.files.items():
                        out[(login, key, version, name)] = (dist.sha256, dist.labels, dist.yanked)
            out[(login, "labels")] = tuple(owner.labels.keys())
        return out


def test_upload_wheel_and_sdist(testapp, app, alice, upload):
    w, wd = builders.wheel("My.Project", "1.0")
    s, sd = builders.sdist("My.Project", "1.0", fmt="zip")
    r = upload("/pypi/alice/", w, wd, alice["upload"], name="My.Project")
    assert r.status_int == 200
    upload("/pypi/alice/", s, sd, alice["upload"], name="My.Project")
    assert sorted(files_of(testapp, "my-project")) == sorted([w, s])
    with app.root() as root:
        package = root.owners["alice"].get_package("My.Project")
        assert package.name == "My.Project" and package.package_types == ("pypi",)
        dist = package.releases["1.0"].files[w]
        assert dist.uploader == "alice" and dist.labels == ("main",)
        assert dist.attrs["packagetype"] == "bdist_wheel" and dist.attrs["project"] == "my-project"
        assert package.summary == "A test package"


def test_upload_url_without_slash_is_not_redirected(testapp, alice, upload):
    w, wd = builders.wheel("noslash", "1.0")
    assert upload("/pypi/alice", w, wd, alice["upload"]).status_int == 200


def test_same_project_other_spelling_lands_in_the_same_package(testapp, app, alice, upload):
    w, wd = builders.wheel("Foo_Bar", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"], name="Foo_Bar")
    w2, wd2 = builders.wheel("foo-bar", "2.0", metadata_name="foo.bar")
    upload("/pypi/alice/", w2, wd2, alice["upload"], name="foo.bar")
    with app.root() as root:
        assert list(root.owners["alice"].packages.keys()) == ["foo_bar"]
    assert sorted(files_of(testapp, "foo-bar")) == sorted([w, w2])


def test_identical_reupload_is_a_noop_and_different_content_conflicts(testapp, app, alice, upload):
    w, wd = builders.wheel("dup", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"])
    before = snapshot(app)
    r = upload("/pypi/alice/", w, wd, alice["upload"])
    assert r.status_int == 200 and "identical" in r.text
    _, other = builders.wheel("dup", "1.0", code="CHANGED = True\n")
    r = upload("/pypi/alice/", w, other, alice["upload"], status=409)
    assert "already exists" in r.text  # twine --skip-existing reads 409 + this text
    assert snapshot(app) == before


def test_upload_to_a_label(testapp, alice, upload):
    w, wd = builders.wheel("labelled", "1.0")
    upload("/pypi/alice/label/dev/", w, wd, alice["upload"])
    assert files_of(testapp, "labelled") == []
    assert files_of(testapp, "labelled", label="dev") == [w]


def test_locked_label_refuses(testapp, app, alice, upload):
    with app.root() as root:
        root.owners["alice"].ensure_label("frozen").locked = True
    w, wd = builders.wheel("cold", "1.0")
    before = snapshot(app)
    r = upload("/pypi/alice/label/frozen/", w, wd, alice["upload"], status=403)
    assert "locked" in r.text
    assert snapshot(app) == before


@pytest.mark.parametrize("scope", ["pypi:upload", "pypi", "api:write", "all"])
def test_scopes_that_may_upload(testapp, app, alice, upload, scope):
    token = app.make_token("alice", f"t-{scope}", [scope])
    w, wd = builders.wheel("scoped", "1.0")
    upload("/pypi/alice/", w, wd, token)
    assert files_of(testapp, "scoped") == [w]


def test_basic_auth_with_user_name_and_token(testapp, alice, upload):
    w, wd = builders.wheel("userauth", "1.0")
    upload("/pypi/alice/", w, wd, headers=basic(alice["upload"], user="alice"))
    assert files_of(testapp, "userauth") == [w]


def test_path_token_may_upload(testapp, alice, upload):
    w, wd = builders.wheel("pathtoken", "1.0")
    upload(f"/pypi/t/{alice['upload']}/alice/", w, wd)
    assert files_of(testapp, "pathtoken") == [w]


def test_refusals_change_nothing(testapp, app, alice, upload):
    app.make_user("mallory")
    mallory = app.make_token("mallory", "up", ["pypi:upload"])
    w, wd = builders.wheel("victim", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"])
    w2, wd2 = builders.wheel("victim", "2.0")
    before = snapshot(app)

    r = upload("/pypi/alice/", w2, wd2, status=401)  # anonymous
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    r = upload("/pypi/alice/", w2, wd2, "ar-notatokennotatokennotatoken", status=401)
    assert "token" in r.text and r.headers["WWW-Authenticate"].startswith("Basic")
    r = upload("/pypi/alice/", w2, wd2, headers=basic("a-password", user="alice"), status=401)
    r = upload("/pypi/alice/", w2, wd2, alice["read"], status=403)  # pypi:download only
    r = upload("/pypi/alice/", w2, wd2, mallory, status=403)  # someone else's namespace
    n, nd = builders.wheel("brandnew", "1.0")
    upload("/pypi/alice/", n, nd, mallory, status=403)
    conda = app.make_token("alice", "conda", ["conda"])
    upload("/pypi/alice/", w2, wd2, conda, status=403)
    upload("/pypi/nobody/", w2, wd2, alice["upload"], status=404)
    assert snapshot(app) == before


def test_collaborator_and_org_group_may_upload(testapp, app, alice, upload):
    from anarepo.services.packages import add_collaborator

    app.make_user("bob")
    bob = app.make_token("bob", "up", ["pypi:upload"])
    w, wd = builders.wheel("team", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"])
    w2, wd2 = builders.wheel("team", "2.0")
    upload("/pypi/alice/", w2, wd2, bob, status=403)
    with app.root() as root:
        add_collaborator(app.registry, root, root.owners["alice"]["team"], "bob")
    upload("/pypi/alice/", w2, wd2, bob)
    app.make_org("acme", "alice")
    w3, wd3 = builders.wheel("orgpkg", "1.0")
    upload("/pypi/acme/", w3, wd3, alice["upload"])
    assert files_of(testapp, "orgpkg", owner="acme") == [w3]


@pytest.mark.parametrize("field,value", [
    ("sha256_digest", "0" * 64),
    ("md5_digest", "0" * 32),
    ("blake2_256_digest", "f" * 64),
    ("md5_digest", base64.urlsafe_b64encode(b"x" * 16).decode().rstrip("=")),
])
def test_wrong_digest(testapp, app, alice, upload, field, value):
    w, wd = builders.wheel("digests", "1.0")
    before = snapshot(app)
    r = upload("/pypi/alice/", w, wd, alice["upload"], status=400, **{field: value})
    assert field in r.text and "does not match" in r.text
    assert snapshot(app) == before


def test_digest_forms_accepted(testapp, alice, upload):
    w, wd = builders.wheel("b64md5", "1.0")
    md5 = base64.urlsafe_b64encode(hashlib.md5(wd).digest()).decode().rstrip("=")
    upload("/pypi/alice/", w, wd, alice["upload"], md5_digest=md5, sha256_digest=None, blake2_256_digest=None)
    w, wd = builders.wheel("onlysha", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"], md5_digest=None, blake2_256_digest=None,
           sha256_digest=hashlib.sha256(wd).hexdigest().upper())
    w, wd = builders.wheel("nodigest", "1.0")
    r = upload("/pypi/alice/", w, wd, alice["upload"], md5_digest=None, blake2_256_digest=None,
               sha256_digest=None, status=400)
    assert "digest is required" in r.text


def test_bad_input(testapp, app, alice, upload):
    w, wd = builders.wheel("good", "1.0")
    before = snapshot(app)
    cases = [
        # (filename, data, fields, message)
        (w, wd, {"name": "other"}, "says project"),
        (w, wd, {"version": "2.0"}, "says version"),
        (w, wd, {"filetype": "sdist"}, "filetype"),
        (w, wd, {":action": "submit"}, "not needed"),
        (w, wd, {":action": "remove_pkg"}, "unsupported"),
        (w, wd, {"protocol_version": "2"}, "protocol_version"),
        ("good-1.0-py3-none-any.whl", b"PK\x03\x04 not really a zip", {}, "not a valid zip"),
        ("good-1.0.tar.gz", b"\x1f\x8b\x08garbage", {}, "not a valid .tar.gz"),
        ("good-1.0.exe", wd, {}, "not a wheel"),
        builders.wheel("good", "1.0", metadata_name="evil") + ({}, "the metadata says 'evil'"),
    ]
    for filename, data, fields, message in cases:
        r = upload("/pypi/alice/", filename, data, alice["upload"], name=fields.pop("name", "good"),
                   version=fields.pop("version", "1.0"), status=400, **fields)
        assert message in r.text, (filename, fields, r.text)
    assert snapshot(app) == before


def test_malformed_requests(testapp, app, alice):
    headers = basic(alice["upload"])
    testapp.post("/pypi/alice/", {"name": "x"}, headers=headers, status=400)  # not multipart
    r = testapp.post("/pypi/alice/", upload_fields("x-1.0-py3-none-any.whl", b"", "x", "1.0"),
                     headers=headers, status=400, content_type="multipart/form-data")
    r = testapp.post("/pypi/alice/", upload_fields("x-1.0-py3-none-any.whl", b"", "x", "1.0"),
                     upload_files=[("other", "x.whl", b"data")], headers=headers, status=400)
    assert "no 'content'" in r.text
    body = b"--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--B\r\nContent-Dispo"
    r = testapp.post("/pypi/alice/", body, headers={**headers, "Content-Type": "multipart/form-data; boundary=B"},
                     status=400)
    assert "malformed" in r.text


def test_long_descriptions_as_large_as_pydantic_and_black_carry(testapp, app, alice, upload):
    """PyPI limits only the summary (512 characters); black's description is 141 KB,
    and twine sends it as a form field as well as in the file (issue 15)."""
    description = "A line of release notes that goes on for a while.\n" * 3000  # 153 KB
    meta = builders.metadata_text("bigdesc", "1.0") + description
    w, wd = builders.wheel("bigdesc", "1.0", metadata=meta)
    upload("/pypi/alice/", w, wd, alice["upload"], description=description,
           long_description_content_type="text/markdown", summary="x" * 512)
    assert files_of(testapp, "bigdesc") == [w]
    with app.root() as root:
        dist = root.owners["alice"].packages["bigdesc"].releases["1.0"].files[w]
        assert description in dist.description
    other = upload("/pypi/alice/", *builders.wheel("other", "1.0"), alice["upload"], comment="c" * (70 << 10),
                   status=400)
    assert "comment" in other.text  # fields nobody needs that long still have a limit


def test_hundreds_of_repeated_metadata_fields_as_apache_airflow_sends(testapp, alice):
    """twine repeats ``requires_dist`` and ``classifiers`` once per value: apache-airflow
    2.x declares over 700 requirements, more than a fixed count of fields allows."""
    requires = [f"dep{i}>=1.0; extra == 'x{i}'" for i in range(750)]
    w, wd = builders.wheel("manydeps", "1.0", requires_dist=requires)
    fields = list(upload_fields(w, wd, "manydeps", "1.0").items())
    fields += [("requires_dist", r) for r in requires] + [("classifiers", "Programming Language :: Python")] * 30
    testapp.post("/pypi/alice/", fields, upload_files=[("content", w, wd)], headers=basic(alice["upload"]))
    assert files_of(testapp, "manydeps") == [w]
    fields = list(upload_fields(w, wd, "manydeps", "1.0").items())
    fields += [(f"f{i}", "v" * 60_000) for i in range(400)]  # 24 MB of made-up fields: still bounded
    refused = testapp.post("/pypi/alice/", fields, upload_files=[("content", w, wd)], headers=basic(alice["upload"]),
                           status=400)
    assert "form fields" in refused.text
