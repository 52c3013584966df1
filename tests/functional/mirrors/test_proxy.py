"""Proxy mode: upstream records listed at once, files fetched on first request, stale-if-error."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conda_builders import build_package, publish_conda

from .conftest import add

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def fetched(upstream):
    return [p for p, _ in upstream.misbehave.requests if not p.endswith(("repodata.json", "/", ".msgpack.zst"))]


def records(testapp, subdir="noarch", path="/conda/alice"):
    response = testapp.get(f"{path}/{subdir}/repodata.json")
    return response, {**response.json["packages"], **response.json["packages.conda"]}


def test_conda_proxy_lists_upstream_merged_with_uploads_and_fetches_on_first_request(
        mirror_app, testapp, conda_upstream):
    fn, data = build_package("localpkg", "1.0")
    publish_conda(mirror_app, "alice", f"noarch/{fn}", data)
    add(mirror_app, url=conda_upstream.url, mode="proxy", filters={"exclude": ["gplthing"]})
    response, recs = records(testapp)
    assert response.headers["X-Anarepo-Upstream"] == "fresh"
    assert sorted(recs) == ["localpkg-1.0-0.tar.bz2", "tool-1.0-0.tar.bz2", "tool-2.0-0.tar.bz2", "tool-3.0-0.conda"]
    assert fetched(conda_upstream) == []  # nothing but the index so far
    upstream_file = Path(conda_upstream.directory) / "noarch" / "tool-2.0-0.tar.bz2"
    assert recs["tool-2.0-0.tar.bz2"]["sha256"] == __import__("hashlib").sha256(upstream_file.read_bytes()).hexdigest()
    first = testapp.get("/conda/alice/noarch/tool-2.0-0.tar.bz2")
    assert first.body == upstream_file.read_bytes()
    again = testapp.get("/conda/alice/noarch/tool-2.0-0.tar.bz2")
    assert again.body == first.body
    assert fetched(conda_upstream) == ["/noarch/tool-2.0-0.tar.bz2"]  # fetched once
    # the channel is ordinary: the API shows the proxied package, the shard index is served
    assert "2.0" in testapp.get("/api/package/alice/tool").json["versions"]
    testapp.get("/conda/alice/noarch/repodata_shards.msgpack.zst")
    testapp.get("/conda/alice/gplthing", status=404)


def test_stale_if_error_serves_the_last_good_index_and_fetched_files(mirror_app, testapp, conda_upstream):
    add(mirror_app, url=conda_upstream.url, mode="proxy", ttl=0)
    _, recs = records(testapp)
    body = testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2").body
    conda_upstream.stop()
    response, stale = records(testapp)
    assert response.headers["X-Anarepo-Upstream"] == "stale" and "111" in response.headers["Warning"]
    assert stale == recs
    assert testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2").body == body
    refused = testapp.get("/conda/alice/noarch/tool-3.0-0.conda", status=502)
    assert "upstream" in refused.text
    _, after = records(testapp)
    assert after == recs  # nothing changed by the failure


def test_revalidation_is_conditional_and_follows_the_ttl(mirror_app, testapp, conda_upstream):
    from tests.conda_builders import write_package
    from tests.upstreams import index_channel

    add(mirror_app, url=conda_upstream.url, mode="proxy", ttl=0)
    records(testapp)
    conda_upstream.misbehave.clear()
    records(testapp)
    assert conda_upstream.misbehave.requests[0][1]  # If-Modified-Since sent
    write_package(conda_upstream.directory, "tool", "4.0", "0")
    index_channel(conda_upstream.directory)
    _, recs = records(testapp)
    assert "tool-4.0-0.tar.bz2" in recs


@pytest.mark.parametrize("rule", [{"truncate": True}, {"status": 500}, {"body": b"x"}])
def test_a_bad_upstream_file_answers_502_and_stores_nothing(mirror_app, testapp, conda_upstream, rule):
    add(mirror_app, url=conda_upstream.url, mode="proxy")
    records(testapp)
    conda_upstream.misbehave.rules["/noarch/tool-1.0-0.tar.bz2"] = rule
    refused = testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2", status=502)
    assert conda_upstream.url.split("//")[1] not in refused.text  # where the source reads is for its admins
    conda_upstream.misbehave.rules.clear()
    good = testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2")
    assert good.body == (Path(conda_upstream.directory) / "noarch" / "tool-1.0-0.tar.bz2").read_bytes()


def test_a_file_whose_bytes_differ_from_the_record_is_refused(mirror_app, testapp, conda_upstream, caplog):
    add(mirror_app, url=conda_upstream.url, mode="proxy")
    records(testapp)
    path = Path(conda_upstream.directory) / "noarch" / "tool-1.0-0.tar.bz2"
    conda_upstream.misbehave.rules["/noarch/tool-1.0-0.tar.bz2"] = {"body": bytes(path.stat().st_size)}
    testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2", status=502)
    assert "sha256 does not match" in caplog.text  # said to the operators, not to the downloader


def test_pypi_proxy_project_pages_and_files(mirror_app, testapp, pypi_upstream, pypi_files):
    add(mirror_app, kind="pypi", url=pypi_upstream.url, mode="proxy", filters={"names": ["demo"]})
    root = testapp.get("/pypi/alice/simple/")
    assert ">demo<" in root.text and root.headers["X-Anarepo-Upstream"] == "fresh"
    page = testapp.get("/pypi/alice/simple/demo/", headers=JSON)
    files = {f["filename"]: f for f in page.json["files"]}
    assert sorted(files) == sorted(f for f in pypi_files if f.startswith("demo-"))
    url = page.request.url.split("/simple/")[0] + "/simple/demo/"
    from urllib.parse import urljoin

    body = testapp.get(urljoin(url, files["demo-2.0-py3-none-any.whl"]["url"])).body
    assert body == pypi_files["demo-2.0-py3-none-any.whl"]
    # after the fetch the wheel's core metadata is served (PEP 658)
    page = testapp.get("/pypi/alice/simple/demo/", headers=JSON)
    wheel = {f["filename"]: f for f in page.json["files"]}["demo-2.0-py3-none-any.whl"]
    assert wheel["core-metadata"]
    # a project the filter leaves out is not proxied
    testapp.get("/pypi/alice/simple/other/", status=404)
    assert not any("/other" in p for p, _ in pypi_upstream.misbehave.requests)


def test_proxied_packages_are_ordinary_on_web_and_api_pages(mirror_app, testapp, conda_upstream, pypi_upstream):
    from anarepo.testing import web_login

    add(mirror_app, url=conda_upstream.url, mode="proxy")
    add(mirror_app, name="py", kind="pypi", url=pypi_upstream.url, mode="proxy", filters={"names": ["demo"]})
    records(testapp)
    testapp.get("/pypi/alice/simple/demo/")
    for path in ("/alice", "/alice/tool", "/alice/tool/files", "/alice/demo", "/alice/demo/files",
                 "/api/package/alice/tool", "/api/release/alice/demo/2.0",
                 "/search?q=tool"):
        assert testapp.get(path).status_int == 200, path
    web_login(testapp, "alice")
    assert testapp.get("/alice/mirrors").status_int == 200
    # the API download link of a proxied file fetches it too
    link = testapp.get("/api/download/alice/tool/1.0/noarch/tool-1.0-0.tar.bz2", status=302)
    assert testapp.get(link.location).body == (Path(conda_upstream.directory) / "noarch" /
                                               "tool-1.0-0.tar.bz2").read_bytes()


def test_maintenance_understands_proxied_files_not_fetched_yet(mirror_app, testapp, conda_upstream):
    from anarepo.services.housekeeping import verify_blobs
    from anarepo.package_types.conda.admin import reindex

    add(mirror_app, url=conda_upstream.url, mode="proxy")
    records(testapp)
    testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2")  # one fetched, three not
    count, problems = verify_blobs(mirror_app.db)
    assert (count, problems) == (1, [])
    assert reindex(mirror_app.registry, check_only=True, reinspect=True)[1] == []


def test_a_proxied_file_is_copied_to_another_owner_only_once_fetched(mirror_app, testapp, conda_upstream):
    add(mirror_app, url=conda_upstream.url, mode="proxy")
    records(testapp)
    headers = {"Authorization": f"token {mirror_app.make_token('alice', 'copy')}"}
    mirror_app.make_org("acme", "alice")
    path = "/api/copy/package/alice/tool/1.0/noarch/tool-1.0-0.tar.bz2"
    body = '{"to_owner": "acme"}'
    refused = testapp.post(path, body, headers=headers, status=409)
    assert "not fetched yet" in refused.json["error"]
    assert testapp.get("/api/package/acme/tool", status=404)
    fetched = testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2").body
    testapp.post(path, body, headers=headers)
    assert testapp.get("/conda/acme/noarch/tool-1.0-0.tar.bz2").body == fetched


def test_anonymous_lookups_of_projects_the_upstream_lacks_write_nothing(mirror_app, testapp, pypi_upstream):
    """A whole-index PyPI proxy asks its upstream for any project a client names; one
    the upstream does not have is a 404 and no write (anyone could grow the database)."""
    add(mirror_app, kind="pypi", url=pypi_upstream.url, mode="proxy")
    testapp.get("/pypi/alice/simple/demo/")  # a real one is listed (and written)
    before = mirror_app.db.lastTransaction()
    for i in range(5):
        missing = testapp.get(f"/pypi/alice/simple/no-such-project-{i}/", status=404)
        assert "X-Anarepo-Upstream" not in missing.headers  # a 404 says nothing of what is behind it
    assert ("/simple/no-such-project-4/", "") in pypi_upstream.misbehave.requests
    assert mirror_app.db.lastTransaction() == before


@pytest.mark.parametrize("fields", [{"python_site_packages_path": "../../../etc"}, {"depends": ["x" * 5000]},
                                    {"build_number": -1}, {"noarch": "java"}, {"version": "2.0 evil"}])
def test_a_proxied_record_passes_the_uploads_record_rules(mirror_app, testapp, conda_upstream, fields):
    """Listed before its bytes are fetched, a proxied record is served to clients as it
    is: it must pass what an upload's index.json must (a site-packages path inside the
    prefix, bounded specs, ...), or it is not listed."""
    import json

    from tests.upstreams import drop_shards

    drop_shards(conda_upstream.directory)  # the test edits repodata.json by hand
    path = Path(conda_upstream.directory) / "noarch" / "repodata.json"
    doc = json.loads(path.read_text())
    doc["packages"]["tool-2.0-0.tar.bz2"].update(fields)
    path.write_text(json.dumps(doc))
    add(mirror_app, url=conda_upstream.url, mode="proxy", filters={"names": ["tool"]})
    _, recs = records(testapp)
    assert "tool-2.0-0.tar.bz2" not in recs and "tool-1.0-0.tar.bz2" in recs
    with mirror_app.root() as root:
        assert "2.0" not in root.owners["alice"].get_package("tool").releases  # not planned, not placed


@pytest.mark.parametrize("filters, listed", [
    ({}, {"demo", "other", "mine"}),
    ({"exclude": ["other"]}, {"demo", "mine"}),
    ({"names": ["d*"]}, {"demo", "mine"}),
])
def test_pypi_proxy_root_lists_every_upstream_project_its_filters_let_through(mirror_app, testapp, pypi_upstream,
                                                                             filters, listed):
    from anarepo.package_types.pypi import builders

    mirror_app.upload("alice", *builders.wheel("mine", "1.0"))  # a local project is listed too
    add(mirror_app, kind="pypi", url=pypi_upstream.url, mode="proxy", filters=filters)
    html = testapp.get("/pypi/alice/simple/").text
    assert {n for n in ("demo", "other", "mine") if f">{n}<" in html} == listed
    root = testapp.get("/pypi/alice/simple/", headers=JSON).json
    assert {p["name"] for p in root["projects"]} == listed
    # listed before any of its pages was read: the page is proxied when asked for
    page = testapp.get("/pypi/alice/simple/demo/", headers=JSON).json
    assert {f["filename"] for f in page["files"]} >= {"demo-1.0-py3-none-any.whl"}
    if "other" not in listed:  # a filtered-out project is in no document
        testapp.get("/pypi/alice/simple/other/", status=404)
        assert "other" not in testapp.get("/pypi/alice/simple/").text


def test_pypi_proxy_keeps_the_upstream_requires_python_of_files_not_fetched_yet(mirror_app, testapp, tmp_path):
    """The record a proxy lists before fetching a file keeps upstream's
    ``data-requires-python`` (kept in the file's ``extras``, like an upload's METADATA)."""
    from tests.upstreams import StaticUpstream, write_simple_tree

    from anarepo.package_types.pypi.builders import wheel

    files = dict([wheel("demo", "1.0"), wheel("demo", "2.0")])
    write_simple_tree(tmp_path / "up", files, requires_python={"demo-2.0-py3-none-any.whl": ">=3.10"})
    upstream = StaticUpstream(tmp_path / "up")
    try:
        add(mirror_app, kind="pypi", url=upstream.url, mode="proxy")
        page = testapp.get("/pypi/alice/simple/demo/", headers=JSON).json
    finally:
        upstream.stop()
    assert {f["filename"]: f.get("requires-python") for f in page["files"]} == {
        "demo-1.0-py3-none-any.whl": None, "demo-2.0-py3-none-any.whl": ">=3.10"}
    with mirror_app.root() as root:
        dists = {d.basename: d for d in root.owners["alice"].packages["demo"].distributions()}
        assert dists["demo-2.0-py3-none-any.whl"].extras["pypi"].requires_python == ">=3.10"
        assert "pypi_metadata" not in dists["demo-2.0-py3-none-any.whl"].__dict__


def test_a_404_does_not_say_a_proxy_is_behind_it(mirror_app, testapp, pypi_upstream):
    """A project nobody may see answers the same 404 as one that does not exist: no
    ``X-Anarepo-Upstream`` telling a stranger that a proxy serves it."""
    from anarepo.services.packages import set_access

    add(mirror_app, kind="pypi", url=pypi_upstream.url, mode="proxy", filters={"names": ["demo"]})
    assert testapp.get("/pypi/alice/simple/demo/").headers["X-Anarepo-Upstream"] == "fresh"
    with mirror_app.root() as root:
        set_access(mirror_app.registry, root.owners["alice"].get_package("demo"), "private")
    hidden = testapp.get("/pypi/alice/simple/demo/", status=404)
    absent = testapp.get("/pypi/bob/simple/demo/", status=404)  # bob has no proxy, nor a demo
    assert "X-Anarepo-Upstream" not in hidden.headers and "Warning" not in hidden.headers
    assert sorted(hidden.headers) == sorted(absent.headers)
    owner = {"Authorization": f"token {mirror_app.make_token('alice', 'read')}"}
    assert testapp.get("/pypi/alice/simple/demo/", headers=owner).headers["X-Anarepo-Upstream"] == "fresh"
