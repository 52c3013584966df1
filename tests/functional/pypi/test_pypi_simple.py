"""The simple index pages, field by field against PEP 503/629/691/700/658/714/592."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from anarepo.package_types.pypi import builders

from .conftest import JSON, basic

HTML_V1 = "application/vnd.pypi.simple.v1+html"
SHA_RE = re.compile(r"^[0-9a-f]{64}$")


class Anchors(HTMLParser):
    """Collects <a> attributes and text, and <meta> tags, as pip's parser does."""

    def __init__(self):
        super().__init__()
        self.anchors, self.meta, self._current = [], {}, None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._current = dict(attrs)
            self._current["_text"] = ""
            self.anchors.append(self._current)
        elif tag == "meta":
            attrs = dict(attrs)
            self.meta[attrs.get("name")] = attrs.get("content")

    def handle_data(self, data):
        if self._current is not None:
            self._current["_text"] += data

    def handle_endtag(self, tag):
        if tag == "a":
            self._current = None


def parse_html(text):
    parser = Anchors()
    parser.feed(text)
    return parser


@pytest.fixture
def project(app, alice, upload):
    """Project Foo.Bar: a wheel (Requires-Python) and an sdist in 1.0, a wheel in 2.0rc1."""
    made = {}
    for fn, data in (
        builders.wheel("Foo.Bar", "1.0", requires_python=">=3.8,<4"),
        builders.sdist("Foo.Bar", "1.0"),
        builders.wheel("Foo.Bar", "2.0rc1"),
    ):
        upload("/pypi/alice/", fn, data, alice["upload"], name="Foo.Bar", version=fn.split("-")[1]
               if fn.endswith(".whl") else "1.0")
        made[fn] = data
    return made


def test_project_json_fields(testapp, project):
    r = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON})
    assert r.content_type == JSON
    assert "Accept" in r.headers["Vary"]
    doc = r.json
    assert doc["meta"] == {"api-version": "1.4"}
    assert doc["name"] == "foo-bar"
    assert doc["versions"] == ["1.0", "2.0rc1"]
    assert doc["project-status"] == {"status": "active"}
    files = {f["filename"]: f for f in doc["files"]}
    assert set(files) == set(project)
    for filename, data in project.items():
        f = files[filename]
        assert f["hashes"] == {"sha256": hashlib.sha256(data).hexdigest()}
        assert f["size"] == len(data)
        assert f["yanked"] is False
        assert f["gpg-sig"] is False
        assert f["provenance"] is None
        # PEP 700: ISO 8601 UTC with Z, close to now
        when = datetime.strptime(f["upload-time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 120
        # relative URL that resolves under the same owner
        assert f["url"].startswith("../../files/")
        assert f["url"].endswith("/" + filename)
        page = testapp.get("/pypi/alice/simple/foo-bar/" + f["url"])  # WebTest normalizes ../
        assert page.body == data
    wheel_1 = files["Foo_Bar-1.0-py3-none-any.whl"]
    assert wheel_1["requires-python"] == ">=3.8,<4"
    # PEP 658/714: core-metadata (and the legacy spelling) with the hash of the .metadata file
    meta = testapp.get(_resolve("/pypi/alice/simple/foo-bar/", wheel_1["url"]) + ".metadata")
    assert meta.body.startswith(b"Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.0\n")
    assert wheel_1["core-metadata"] == {"sha256": hashlib.sha256(meta.body).hexdigest()}
    assert wheel_1["dist-info-metadata"] == wheel_1["core-metadata"]
    sdist = files["Foo_Bar-1.0.tar.gz"]
    assert sdist["core-metadata"] is False and sdist["dist-info-metadata"] is False
    assert sdist["requires-python"] is None


def _resolve(page, rel):
    from urllib.parse import urljoin

    return urljoin("http://localhost" + page, rel)[len("http://localhost"):]


def test_project_html_fields(testapp, project):
    r = testapp.get("/pypi/alice/simple/foo-bar/")
    assert r.content_type == "text/html"
    assert r.headers["Vary"].startswith("Accept")
    page = parse_html(r.text)
    assert page.meta["pypi:repository-version"] == "1.4"
    anchors = {a["_text"]: a for a in page.anchors}
    assert set(anchors) == set(project)
    for filename, data in project.items():
        a = anchors[filename]
        url, _, fragment = a["href"].partition("#")
        assert fragment == "sha256=" + hashlib.sha256(data).hexdigest()
        assert testapp.get(_resolve("/pypi/alice/simple/foo-bar/", url)).body == data
        assert "data-yanked" not in a
    wheel_1 = anchors["Foo_Bar-1.0-py3-none-any.whl"]
    assert wheel_1["data-requires-python"] == ">=3.8,<4"  # parsed, so it was escaped in the page
    assert "data-requires-python=\"&gt;=3.8,&lt;4\"" in r.text
    meta = testapp.get(_resolve("/pypi/alice/simple/foo-bar/", wheel_1["href"].partition("#")[0]) + ".metadata")
    digest = "sha256=" + hashlib.sha256(meta.body).hexdigest()
    assert wheel_1["data-core-metadata"] == digest
    assert wheel_1["data-dist-info-metadata"] == digest
    assert "data-core-metadata" not in anchors["Foo_Bar-1.0.tar.gz"]


def test_index_root_both_formats(testapp, app, project, upload, alice):
    fn, data = builders.wheel("zeta", "0.1")
    upload("/pypi/alice/", fn, data, alice["upload"])
    html = parse_html(testapp.get("/pypi/alice/simple/").text)
    assert [(a["href"], a["_text"]) for a in html.anchors] == [("foo-bar/", "Foo.Bar"), ("zeta/", "zeta")]
    doc = testapp.get("/pypi/alice/simple/", headers={"Accept": JSON}).json
    assert doc["meta"]["api-version"] == "1.4"
    assert doc["projects"] == [{"name": "Foo.Bar"}, {"name": "zeta"}]


@pytest.mark.parametrize("accept,expected", [
    (None, "text/html"),
    ("*/*", "text/html"),
    ("text/html", "text/html"),
    (HTML_V1, HTML_V1),
    (JSON, JSON),
    ("application/vnd.pypi.simple.latest+json", JSON),
    ("application/vnd.pypi.simple.latest+html", HTML_V1),
    # what uv and pip send: JSON preferred
    (f"{JSON}, {HTML_V1};q=0.2, text/html;q=0.01", JSON),
    (f"{JSON};q=0.1, text/html", "text/html"),
])
def test_negotiation(testapp, project, accept, expected):
    headers = {"Accept": accept} if accept else {}
    r = testapp.get("/pypi/alice/simple/foo-bar/", headers=headers)
    assert r.headers["Content-Type"].split(";")[0] == expected


def test_format_parameter_overrides_accept(testapp, project):
    r = testapp.get(f"/pypi/alice/simple/foo-bar/?format={JSON}", headers={"Accept": "text/html"})
    assert r.content_type == JSON and r.json["name"] == "foo-bar"
    r = testapp.get("/pypi/alice/simple/?format=text/html", headers={"Accept": JSON})
    assert r.content_type == "text/html"


def test_not_acceptable(testapp, project):
    r = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": "application/xml"}, status=406)
    assert "application/vnd.pypi.simple.v1+json" in r.text
    testapp.get("/pypi/alice/simple/foo-bar/?format=application/xml", status=406)
    testapp.get("/pypi/alice/simple/", headers={"Accept": "image/png"}, status=406)


@pytest.mark.parametrize("path,location", [
    ("/pypi/alice/simple/Foo.Bar/", "/pypi/alice/simple/foo-bar/"),
    ("/pypi/alice/simple/FOO_bar", "/pypi/alice/simple/foo-bar/"),
    ("/pypi/alice/simple/foo-bar", "/pypi/alice/simple/foo-bar/"),
    ("/pypi/alice/simple", "/pypi/alice/simple/"),
    ("/pypi/alice/label/main/simple/Foo__Bar/", "/pypi/alice/label/main/simple/foo-bar/"),
    ("/pypi/t/TOKEN/alice/simple/Foo.Bar/", "/pypi/t/TOKEN/alice/simple/foo-bar/"),
    ("/t/TOKEN/pypi/alice/simple/foo-bar", "/t/TOKEN/pypi/alice/simple/foo-bar/"),
])
def test_redirects_keep_token_and_label(testapp, project, alice, path, location):
    path = path.replace("TOKEN", alice["read"])
    r = testapp.get(path, status=301)
    assert r.headers["Location"] == "http://localhost" + location.replace("TOKEN", alice["read"])


def test_redirect_keeps_query(testapp, project):
    r = testapp.get(f"/pypi/alice/simple/Foo.Bar/?format={JSON}", status=301)
    assert r.headers["Location"].endswith(f"/simple/foo-bar/?format={JSON}")


def test_etag_and_304_and_head(testapp, project):
    r = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON})
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"].startswith("public")
    again = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON, "If-None-Match": etag}, status=304)
    assert again.body == b""
    html = testapp.get("/pypi/alice/simple/foo-bar/", headers={"If-None-Match": etag})
    assert html.status_int == 200 and html.headers["ETag"] != etag
    head = testapp.head("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON})
    assert head.body == b"" and int(head.headers["Content-Length"]) == len(r.body)


def test_gzip_when_accepted(testapp, project):
    plain = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON})
    r = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON, "Accept-Encoding": "gzip"})
    # WebTest decodes the body (and drops Content-Encoding); the variant has its own ETag
    assert r.body == plain.body
    assert r.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    assert "Accept-Encoding" in r.headers["Vary"]


def test_new_upload_changes_page_and_etag(testapp, project, upload, alice):
    before = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON})
    fn, data = builders.wheel("foo_bar", "3.0")
    upload("/pypi/alice/", fn, data, alice["upload"])
    after = testapp.get("/pypi/alice/simple/foo-bar/", headers={"Accept": JSON,
                                                                "If-None-Match": before.headers["ETag"]})
    assert after.status_int == 200
    assert after.json["versions"] == ["1.0", "2.0rc1", "3.0"]


def test_unknown_things_are_404(testapp, project):
    testapp.get("/pypi/nobody/simple/", status=404)
    testapp.get("/pypi/alice/simple/nothing-here/", status=404)
    testapp.get("/pypi/alice/label/dev/simple/foo-bar/", status=404)
    testapp.get("/pypi/alice/files/foo.bar/9.9/Foo_Bar-9.9-py3-none-any.whl", status=404)
    testapp.get("/pypi/alice/files/foo.bar/1.0/Foo_Bar-1.0.tar.gz.metadata", status=404)
    testapp.get("/pypi/alice/label/BAD$label/simple/", status=404)
    # an empty owner index is a valid, empty page
    assert parse_html(testapp.get("/pypi/alice/label/nothing/simple/").text).anchors == []


def test_labels_are_separate_indexes(testapp, app, alice, upload):
    fn, data = builders.wheel("devonly", "0.1.dev1")
    upload("/pypi/alice/label/dev/", fn, data, alice["upload"])
    testapp.get("/pypi/alice/simple/devonly/", status=404)
    doc = testapp.get("/pypi/alice/label/dev/simple/devonly/", headers={"Accept": JSON}).json
    assert [f["filename"] for f in doc["files"]] == [fn]
    assert testapp.get(_resolve("/pypi/alice/label/dev/simple/devonly/", doc["files"][0]["url"])).body == data
    # the same file is not served through a label it is not in
    testapp.get(_resolve("/pypi/alice/simple/devonly/", doc["files"][0]["url"]), status=404)
    assert testapp.get("/pypi/alice/label/dev/simple/").text.count("<a ") == 1
    assert "devonly" not in testapp.get("/pypi/alice/simple/").text


def test_label_changes_update_the_index(testapp, app, alice, upload):
    from anarepo.services import labels

    fn, data = builders.wheel("movable", "1.0")
    upload("/pypi/alice/label/dev/", fn, data, alice["upload"])
    with app.root() as root:
        owner = root.owners["alice"]
        dists = labels.select(owner, "movable")
        labels.add_files(app.registry, owner, "main", dists)
    assert fn in testapp.get("/pypi/alice/simple/movable/").text
    assert fn in testapp.get("/pypi/alice/label/dev/simple/movable/").text


def test_private_package_visibility(testapp, app, alice, upload):
    app.make_user("bob")
    bob = app.make_token("bob", "read", ["pypi:download"])
    fn, data = builders.wheel("secret-pkg", "1.0")
    upload("/pypi/alice/", fn, data, alice["upload"])
    pub_fn, pub_data = builders.wheel("open-pkg", "1.0")
    upload("/pypi/alice/", pub_fn, pub_data, alice["upload"])
    from anarepo.services.packages import set_access

    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("secret-pkg"), "private")
    # anonymous: not listed, 404, file 404
    assert "secret" not in testapp.get("/pypi/alice/simple/").text
    testapp.get("/pypi/alice/simple/secret-pkg/", status=404)
    testapp.get("/pypi/alice/files/secret_pkg/1.0/" + fn, status=404)
    testapp.get("/pypi/alice/files/secret_pkg/1.0/" + fn + ".metadata", status=404)
    # another user's token: the same
    assert "secret" not in testapp.get(f"/pypi/t/{bob}/alice/simple/").text
    testapp.get(f"/pypi/t/{bob}/alice/simple/secret-pkg/", status=404)
    # the owner's token, in every position
    tok = alice["read"]
    for prefix, headers in ((f"/pypi/t/{tok}/alice", {}), (f"/t/{tok}/pypi/alice", {}),
                            ("/pypi/alice", basic(tok)), ("/pypi/alice", basic(tok, user="alice"))):
        listing = testapp.get(prefix + "/simple/", headers=headers)
        assert "secret-pkg/" in listing.text and "open-pkg/" in listing.text
        assert listing.headers["Cache-Control"].startswith("private")
        page = testapp.get(prefix + "/simple/secret-pkg/", headers={"Accept": JSON, **headers})
        assert page.headers["Cache-Control"].startswith("private")
        url = page.json["files"][0]["url"]
        assert testapp.get(_resolve(prefix + "/simple/secret-pkg/", url), headers=headers).body == data
    # anonymous again after a token request: the cache never leaks
    assert "secret" not in testapp.get("/pypi/alice/simple/").text
    # a wrong token is 401 with a Basic challenge, even on public pages
    r = testapp.get("/pypi/t/ar-wrongwrongwrongwrong/alice/simple/open-pkg/", status=401)
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_token_scope_and_org_restriction(testapp, app, alice, upload):
    """A token outside its scopes or organization never reveals private projects."""
    from anarepo.services.packages import set_access

    fn, data = builders.wheel("hidden-pkg", "1.0")
    upload("/pypi/alice/", fn, data, alice["upload"])
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("hidden-pkg"), "private")
    conda_only = app.make_token("alice", "conda", ["conda:download"])
    testapp.get(f"/pypi/t/{conda_only}/alice/simple/hidden-pkg/", status=404)
    assert "hidden-pkg" not in testapp.get(f"/pypi/t/{conda_only}/alice/simple/").text
    repos = app.make_token("alice", "repos", ["repos"])
    testapp.get(f"/pypi/t/{repos}/alice/simple/hidden-pkg/", status=200)
    app.make_org("acme", "alice")
    org_token = app.make_token("alice", "acme-read", ["pypi:download"], org="acme")
    testapp.get(f"/pypi/t/{org_token}/alice/simple/hidden-pkg/", status=404)
    testapp.get(f"/pypi/t/{org_token}/alice/files/hidden-pkg/1.0/{fn}", status=404)


def test_authenticated_access_level(testapp, app, alice, upload):
    from anarepo.services.packages import set_access

    fn, data = builders.wheel("members-only", "1.0")
    upload("/pypi/alice/", fn, data, alice["upload"])
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("members-only"), "authenticated")
    testapp.get("/pypi/alice/simple/members-only/", status=404)
    app.make_user("carol")
    carol = app.make_token("carol", "read", ["pypi:download"])
    testapp.get(f"/pypi/t/{carol}/alice/simple/members-only/", status=200)


def test_yank_shows_in_both_formats(testapp, app, alice, upload):
    fn, data = builders.wheel("yankee", "1.0")
    upload("/pypi/alice/", fn, data, alice["upload"])
    api = {"Authorization": f"token {app.make_token('alice', 'api', ['api:write'])}"}
    testapp.post_json("/api/yank/alice/yankee/1.0", {"reason": "broken <build>"}, headers=api)
    doc = testapp.get("/pypi/alice/simple/yankee/", headers={"Accept": JSON}).json
    assert doc["files"][0]["yanked"] == "broken <build>"
    html = testapp.get("/pypi/alice/simple/yankee/")
    assert parse_html(html.text).anchors[0]["data-yanked"] == "broken <build>"
    assert 'data-yanked="broken &lt;build&gt;"' in html.text
    testapp.delete(f"/api/yank/alice/yankee/1.0/{fn}", headers=api)
    assert testapp.get("/pypi/alice/simple/yankee/", headers={"Accept": JSON}).json["files"][0]["yanked"] is False
    # yanked without a reason: true / valueless attribute
    testapp.post(f"/api/yank/alice/yankee/1.0/{fn}", headers=api)
    assert testapp.get("/pypi/alice/simple/yankee/", headers={"Accept": JSON}).json["files"][0]["yanked"] is True
    assert parse_html(testapp.get("/pypi/alice/simple/yankee/").text).anchors[0]["data-yanked"] == ""


def test_removal_and_transfer_update_the_index(testapp, app, alice, upload):
    from anarepo.services.packages import transfer_package
    from anarepo.services.contents import remove_distribution, remove_package

    w, wd = builders.wheel("gone", "1.0")
    s, sd = builders.sdist("gone", "1.0")
    upload("/pypi/alice/", w, wd, alice["upload"])
    upload("/pypi/alice/", s, sd, alice["upload"])
    with app.root() as root:
        remove_distribution(app.registry, root.owners["alice"]["gone"].releases["1.0"].files[w])
    page = testapp.get("/pypi/alice/simple/gone/").text
    assert s in page and w not in page
    app.make_org("acme", "alice")
    with app.root() as root:
        transfer_package(app.registry, root, root.owners["alice"]["gone"], root.owners["acme"])
    testapp.get("/pypi/alice/simple/gone/", status=404)
    assert "gone/" not in testapp.get("/pypi/alice/simple/").text
    assert s in testapp.get("/pypi/acme/simple/gone/").text
    with app.root() as root:
        remove_package(app.registry, root.owners["acme"]["gone"])
    testapp.get("/pypi/acme/simple/gone/", status=404)
    assert "gone/" not in testapp.get("/pypi/acme/simple/").text


def test_reindex_rebuilds_lost_state(testapp, app, alice, upload):
    from anarepo.package_types.pypi.index import STATE, reindex_all

    fn, data = builders.wheel("rebuilt", "1.0")
    upload("/pypi/alice/", fn, data, alice["upload"])
    before = testapp.get("/pypi/alice/simple/rebuilt/", headers={"Accept": JSON}).json
    with app.root() as root:
        del root.owners["alice"].indexes[STATE]
    testapp.get("/pypi/alice/simple/rebuilt/", status=404)
    with app.root() as root:
        assert reindex_all(root) == 1
    assert testapp.get("/pypi/alice/simple/rebuilt/", headers={"Accept": JSON}).json == before


@pytest.mark.parametrize("headers", [{}, {"Accept": JSON}, {"Accept": JSON, "Accept-Encoding": "gzip"},
                                     {"Accept": HTML_V1}])
def test_anonymous_and_token_requests_get_the_same_public_page(testapp, project, alice, headers):
    """An anonymous request and a token request for a public page get the same
    bytes and headers (only the token's answer is private)."""
    fast = testapp.get("/pypi/alice/simple/foo-bar/", headers=headers)
    slow = testapp.get(f"/pypi/t/{alice['read']}/alice/simple/foo-bar/", headers=headers)
    assert fast.body == slow.body
    for name in ("Content-Type", "ETag", "Vary", "Content-Length"):
        assert fast.headers.get(name) == slow.headers.get(name), name
    # an answer to a request with credentials is never cached for others (docs/security.md)
    assert fast.headers["Cache-Control"].replace("public", "private") == slow.headers["Cache-Control"]
    testapp.get("/pypi/alice/simple/foo-bar/", headers={**headers, "If-None-Match": fast.headers["ETag"]},
                status=304)
