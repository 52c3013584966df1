"""Stored XSS: every URL field accepts only http(s) on every way in, and is filtered
again when rendered; every answer carries the security headers."""
from __future__ import annotations

import pytest

from anarepo.package_types.pypi import builders
from anarepo.testing import web_login
from tests import builders as files
from tests.conda_builders import build_package
from tests.functional.api.conftest import Api
from tests.functional.pypi.conftest import Uploader

from .hostile import HOSTILE_URLS, error_of, snapshot

LINK_FIELDS = ("home", "dev_url", "doc_url", "license_url")


@pytest.fixture
def alice(app, testapp):
    app.make_user("alice")
    app.publish_file("alice", "tool", "1.0", "tool.txt", b"x")
    with app.root() as root:
        root.owners["alice"].packages["tool"].home = "https://example.org/tool"
    return Api(testapp, app.make_token("alice", "cli"))


# -- ingestion: the API -----------------------------------------------------------

@pytest.mark.parametrize("field", LINK_FIELDS)
@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_api_patch_refuses_non_http_links(app, alice, field, url):
    before = snapshot(app)
    r = alice.patch("/package/alice/tool", {"public_attrs": {field: url}}, status=400)
    assert "http or https" in error_of(r)
    assert snapshot(app) == before


@pytest.mark.parametrize("url", HOSTILE_URLS[:4])
def test_api_create_refuses_non_http_links(app, alice, url):
    before = snapshot(app)
    r = alice.post("/package/alice/newpkg", {"public_attrs": {"home": url}}, status=400)
    assert "http or https" in error_of(r)
    assert snapshot(app) == before


def test_api_license_dict_url_is_a_link(app, alice):
    before = snapshot(app)
    alice.patch("/package/alice/tool", {"public_attrs": {"license": {"name": "MIT", "url": "javascript:x"}}},
                status=400)
    assert snapshot(app) == before


def test_http_links_and_plain_text_are_kept_or_dropped(app, alice):
    alice.patch("/package/alice/tool", {"public_attrs": {"home": "  https://example.org/a?b=c  ",
                                                         "doc_url": "UNKNOWN"}})
    with app.root() as root:
        package = root.owners["alice"].packages["tool"]
        assert package.home == "https://example.org/a?b=c"
        assert package.doc_url == ""


# -- ingestion: uploaded files -------------------------------------------------------

@pytest.fixture
def pypi_upload(app, testapp):
    app.make_user("bob")
    token = app.make_token("bob", "up", ["pypi:upload"])
    uploader = Uploader(testapp)
    return lambda filename, data, **kw: uploader("/pypi/bob/", filename, data, token, **kw)


@pytest.mark.parametrize("header", ["Home-page: {}", "Project-URL: Homepage, {}", "Project-URL: Source, {}",
                                    "Project-URL: Documentation, {}"])
@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", " JAVASCRIPT:alert(1)"])
def test_wheel_links_are_refused(app, pypi_upload, header, url):
    meta = builders.metadata_text("evilpkg", "1.0", extra_headers=[header.format(url)])
    fn, data = builders.wheel("evilpkg", "1.0", metadata=meta)
    before = snapshot(app)
    r = pypi_upload(fn, data, status=400)
    assert "http or https" in r.text
    assert snapshot(app) == before


@pytest.mark.parametrize("field", LINK_FIELDS + ("source_url",))
@pytest.mark.parametrize("fmt", [".tar.bz2", ".conda"])
def test_conda_about_links_are_refused(app, testapp, field, fmt):
    app.make_user("carol")
    api = Api(testapp, app.make_token("carol", "cli"))
    about = {"summary": "s", "home": "https://example.org", field: "javascript:alert(1)"}
    fn, data = build_package("evilconda", "1.0", fmt=fmt, about=about)
    before = snapshot(app)
    staged = api.stage("carol", "evilconda", "1.0", f"noarch/{fn}", data, dtype="conda").json
    api.s3(staged, data, fn)
    r = api.commit("carol", "evilconda", "1.0", f"noarch/{fn}", staged["dist_id"], status=400)
    assert "http or https" in error_of(r)
    assert {k: v for k, v in snapshot(app).items() if k[-1:] != ("labels",)} == {
        k: v for k, v in before.items() if k[-1:] != ("labels",)}


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x"])
def test_r_url_is_refused(app, url):
    app.make_user("dora")
    description = (f"Package: rpkg\nVersion: 1.0\nTitle: T\nDescription: D\nLicense: MIT\nURL: {url}\n").encode()
    data = files.r_package("rpkg", "1.0", extra={"rpkg/DESCRIPTION": description})
    before = snapshot(app)
    with pytest.raises(ValueError, match="http or https"):
        app.upload("dora", "rpkg_1.0.tar.gz", data)
    assert snapshot(app) == before


def test_wheel_with_unknown_home_page_is_accepted_without_a_link(app, pypi_upload, testapp):
    meta = builders.metadata_text("oldpkg", "1.0", extra_headers=["Home-page: UNKNOWN"])
    fn, data = builders.wheel("oldpkg", "1.0", metadata=meta)
    pypi_upload(fn, data)
    with app.root() as root:
        assert root.owners["bob"].packages["oldpkg"].home == ""


# -- render: values already in a database are filtered again ------------------------------

@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_stored_hostile_links_are_not_rendered(app, testapp, alice, url):
    with app.root() as root:  # as an older database might hold them
        package = root.owners["alice"].packages["tool"]
        package.home = package.dev_url = package.doc_url = url
    page = testapp.get("/alice/tool")
    assert "javascript" not in page.text.lower().replace("javascript:void", "")
    assert not any(a.get("href", "").strip().lower().startswith(("javascript", "data", "vbscript", "//", "file"))
                   for a in page.html.find_all("a"))


# -- headers on every answer ------------------------------------------------------------

@pytest.mark.parametrize("path,status", [("/", 200), ("/alice", 200), ("/alice/tool", 200), ("/account/login", 200),
                                         ("/nobody-here", 404), ("/api/user/alice", 200), ("/api/nothing", 404),
                                         ("/alice/tool/files", 200), ("/search?q=tool", 200)])
def test_security_headers(testapp, alice, path, status):
    r = testapp.get(path, status=status)
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_credentialed_pages_are_private(testapp, app, alice):
    web_login(testapp, "alice")
    for path in ("/alice/tool", "/account/tokens", "/dashboard", "/alice/tool/1.0/download/tool.txt"):
        r = testapp.get(path)
        assert "private" in r.headers.get("Cache-Control", ""), path
        assert "public" not in r.headers.get("Cache-Control", ""), path


def test_token_downloads_are_private(testapp, app, alice):
    r = testapp.get(f"/t/{alice.token}/alice/tool/1.0/download/tool.txt")
    assert "private" in r.headers["Cache-Control"]
