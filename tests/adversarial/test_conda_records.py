"""Records that would hurt clients: CEP-17 paths outside the prefix, replaceable files
sent as immutable, and archive links that resolve outside the archive."""
from __future__ import annotations

import io
import tarfile

import pytest

from anarepo.package_types.pypi import builders
from tests.conda_builders import build_package
from tests.functional.api.conftest import Api

from .hostile import error_of, snapshot


@pytest.fixture
def alice(app, testapp):
    app.make_user("alice")
    return Api(testapp, app.make_token("alice", "cli"))


def api_upload(api, fn, data, status=200, **body):
    staged = api.stage("alice", fn.split("-")[0], "1.0", f"noarch/{fn}", data, dtype="conda", **body).json
    api.s3(staged, data, fn)
    return api.commit("alice", fn.split("-")[0], "1.0", f"noarch/{fn}", staged["dist_id"], status=status)


@pytest.mark.parametrize("path", ["../../etc", "/etc/python", "lib/../../outside", "..", "C:\\Python\\Lib",
                                  "\\\\server\\share", "~/site-packages", ".", "lib/./../.."])
def test_site_packages_path_outside_the_prefix_is_refused(app, alice, path):
    fn, data = build_package("cep17", "1.0", index_extra={"python_site_packages_path": path})
    before = snapshot(app)
    r = api_upload(alice, fn, data, status=400)
    assert "python_site_packages_path" in error_of(r)
    assert {k: v for k, v in snapshot(app).items() if k[-1:] != ("labels",)} == {
        k: v for k, v in before.items() if k[-1:] != ("labels",)}


def test_site_packages_path_inside_the_prefix_is_kept(app, alice, testapp):
    fn, data = build_package("cep17ok", "1.0", index_extra={"python_site_packages_path": "lib/python3.13t/site-packages"})
    api_upload(alice, fn, data)
    record = testapp.get("/conda/alice/noarch/repodata.json").json["packages"][fn]
    assert record["python_site_packages_path"] == "lib/python3.13t/site-packages"


def test_replaceable_package_files_are_never_immutable(app, alice, testapp):
    """``anaconda upload --force`` can put other bytes at the same URL: caches revalidate."""
    fn, data = build_package("forced", "1.0")
    api_upload(alice, fn, data)
    first = testapp.get(f"/conda/alice/noarch/{fn}")
    assert "immutable" not in first.headers["Cache-Control"] and "no-cache" in first.headers["Cache-Control"]
    testapp.delete(f"/api/dist/alice/forced/1.0/noarch/{fn}", headers=alice.headers(), status="*")
    _fn, other = build_package("forced", "1.0", payload={"share/forced/changed.txt": b"changed"})
    api_upload(alice, fn, other)
    second = testapp.get(f"/conda/alice/noarch/{fn}", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_int == 200 and second.body == other  # the old ETag no longer matches


def test_pypi_files_are_revalidated_too(app, testapp):
    app.make_user("bob")
    fn, data = builders.wheel("revalidated", "1.0")
    app.upload("bob", fn, data)
    r = testapp.get(f"/pypi/bob/simple/revalidated/{fn}", status="*")
    if r.status_int in (301, 302):
        r = r.follow()
    files = testapp.get("/pypi/bob/simple/revalidated/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    url = files.json["files"][0]["url"]
    target = url if url.startswith("/") else "/pypi/bob/simple/revalidated/" + url
    response = testapp.get(target.split("#")[0])
    assert "immutable" not in response.headers["Cache-Control"] and "no-cache" in response.headers["Cache-Control"]


def _project_with_link(link_name: str, target: str, hard: bool) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in {"proj/anaconda-project.yml": b"name: proj\n", "proj/real.txt": b"x"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(link_name)
        info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
        info.linkname = target
        tar.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize("link_name,target,hard", [
    ("proj/a/b/c/link", "../../etc/passwd", True),   # hard links resolve from the archive root
    ("proj/a/b/link", "../../../../etc/passwd", False),  # symlinks from their own directory
    ("proj/link", "/etc/passwd", True),
    ("proj/link", "/etc/passwd", False),
])
def test_links_outside_the_archive_are_refused(app, alice, link_name, target, hard):
    app.make_user("carol")
    before = snapshot(app)
    with pytest.raises(ValueError, match="outside the archive"):
        app.upload("carol", "proj.tar.gz", _project_with_link(link_name, target, hard), type_name="project",
                   version="1")
    assert snapshot(app) == before


@pytest.mark.parametrize("link_name,target,hard", [
    ("proj/a/b/link", "proj/real.txt", True),
    ("proj/a/b/link", "../../real.txt", False),
])
def test_links_inside_the_archive_are_fine(app, link_name, target, hard):
    app.make_user("dora")
    app.upload("dora", "proj.tar.gz", _project_with_link(link_name, target, hard), type_name="project", version="1")
