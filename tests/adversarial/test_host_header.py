"""A forged Host header never reaches an absolute URL when ``anarepo.public_url`` is set;
the PyPI root index does not reveal private projects through its Cache-Control."""
from __future__ import annotations

import pytest
import webtest

from anarepo.testing import after_this_second, make_settings
from tests.functional.api.conftest import Api

PUBLIC = "https://repo.example.org"
EVIL = "evil.example"


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **{"anarepo.public_url": PUBLIC})


@pytest.fixture
def forged(app):
    return webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": EVIL})


def test_stage_form_url_uses_the_public_url(app, forged):
    app.make_user("alice")
    api = Api(forged, app.make_token("alice", "cli"))
    staged = api.stage("alice", "pkg", "1", "f.txt", b"x").json
    assert staged["post_url"].startswith(PUBLIC + "/api/s3upload/")
    assert EVIL not in str(staged)


@pytest.mark.parametrize("path", ["/account/settings", "/dashboard", "/pypi/alice/simple"])
def test_redirects_use_the_public_url(app, forged, path):
    app.make_user("alice")
    r = forged.get(path, status="*")
    assert r.status_int in (301, 302, 303, 307, 308)
    assert r.location.startswith(PUBLIC) and EVIL not in r.location


def test_pages_link_to_the_public_url(app, forged):
    app.make_user("alice")
    app.publish_file("alice", "tool", "1", "tool.txt", b"x")
    page = forged.get("/alice/tool")
    assert EVIL not in page.text and PUBLIC in page.text


def test_subdomains_still_map_with_a_public_url(app):
    app.make_user("alice")
    sub = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "pypi.repo.example.org"})
    assert sub.get("/alice/simple/", status=200)


def test_anonymous_pypi_root_is_public_even_with_private_projects(app, testapp):
    from anarepo.package_types.pypi import builders

    app.make_user("bob")
    app.upload("bob", *builders.wheel("open-one", "1.0"))
    before = testapp.get("/pypi/bob/simple/", headers={"Host": "localhost"})
    app.upload("bob", *builders.wheel("secret-one", "1.0"), access="private")
    after = testapp.get("/pypi/bob/simple/")
    assert after.headers["Cache-Control"].startswith("public")
    assert after.headers["ETag"] == before.headers["ETag"]  # the anonymous document did not change
    assert "secret-one" not in after.text
    token = app.make_token("bob", "read", ["pypi:download"])
    mine = testapp.get(f"/pypi/t/{token}/bob/simple/")
    assert "secret-one" in mine.text and "private" in mine.headers["Cache-Control"]


@pytest.mark.parametrize("doc", ["noarch/repodata.json", "noarch/repodata_shards.msgpack.zst", "channeldata.json"])
def test_anonymous_conda_validators_ignore_private_uploads(app, testapp, doc):
    from tests.conda_builders import build_package, publish_conda

    app.make_user("carol")
    publish_conda(app, "carol", *build_package("open", "1.0"))
    after_this_second()  # the document's date is sent once the second of its change is over
    before = testapp.get(f"/conda/carol/{doc}")
    assert "Last-Modified" in before.headers
    publish_conda(app, "carol", *build_package("hidden", "1.0"), access="private")
    after = testapp.get(f"/conda/carol/{doc}")
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.headers.get("Last-Modified") == before.headers.get("Last-Modified")
    assert after.body == before.body
    publish_conda(app, "carol", *build_package("open", "2.0"))
    changed = testapp.get(f"/conda/carol/{doc}")
    assert changed.headers["ETag"] != before.headers["ETag"]
    testapp.get(f"/conda/carol/{doc}", headers={"If-None-Match": before.headers["ETag"]}, status=200)
    testapp.get(f"/conda/carol/{doc}", headers={"If-None-Match": changed.headers["ETag"]}, status=304)
    token = app.make_token("carol", "read")
    owner_view = testapp.get(f"/conda/t/{token}/carol/{doc}")
    assert owner_view.headers["ETag"] != changed.headers["ETag"]
