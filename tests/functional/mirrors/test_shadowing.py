"""Local packages shadow upstream ones: no dependency confusion through a mirror or proxy.

A team's own ``tool`` must never gain a stranger's upstream ``tool 3.0`` (which
every solver and pip would prefer), unless the source says ``merge_local``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from anarepo.package_types.pypi.builders import wheel
from tests.conda_builders import build_package, publish_conda

from .conftest import add, sync

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}
DOCUMENTS = ("repodata.json", "/", ".msgpack.zst", ".zst")


def conda_files(testapp, subdir="noarch"):
    doc = testapp.get(f"/conda/alice/{subdir}/repodata.json").json
    return {**doc["packages"], **doc["packages.conda"]}


def fetched(upstream):
    return [p for p, _ in upstream.misbehave.requests if not p.endswith(DOCUMENTS)]


def publish_local_tool(app):
    fn, data = build_package("tool", "1.0", "0", payload={"share/own.txt": b"our build\n"})
    publish_conda(app, "alice", f"noarch/{fn}", data)
    return fn, data


def test_a_mirror_never_adds_upstream_files_to_a_local_package(mirror_app, testapp, conda_upstream):
    fn, data = publish_local_tool(mirror_app)
    add(mirror_app, url=conda_upstream.url)
    run = sync(mirror_app)
    assert (run["shadowed"], run["failed"]) == (3, 0), run  # tool 1.0, 2.0, 3.0 upstream
    assert not any("/tool-" in p for p in fetched(conda_upstream))  # never even downloaded
    assert sorted(conda_files(testapp)) == ["gplthing-1.0-0.tar.bz2", fn]
    assert testapp.get(f"/conda/alice/noarch/{fn}").body == data
    # no failure, so the validators were kept: the next run reads documents only
    before = len(fetched(conda_upstream))
    again = sync(mirror_app)
    assert again["failed"] == 0 and len(fetched(conda_upstream)) == before


def test_a_conda_proxy_lists_no_upstream_record_of_a_local_package(mirror_app, testapp, conda_upstream):
    fn, _ = publish_local_tool(mirror_app)
    add(mirror_app, url=conda_upstream.url, mode="proxy")
    assert sorted(conda_files(testapp)) == ["gplthing-1.0-0.tar.bz2", fn]
    testapp.get("/conda/alice/noarch/tool-3.0-0.conda", status=404)
    assert not any("/tool-" in p for p in fetched(conda_upstream))


def test_a_pypi_proxy_serves_only_the_local_files_of_a_local_project(mirror_app, testapp, pypi_upstream):
    name, data = wheel("demo", "0.5")
    mirror_app.upload("alice", name, data)
    add(mirror_app, kind="pypi", url=pypi_upstream.url, mode="proxy")
    page = testapp.get("/pypi/alice/simple/demo/", headers=JSON)
    assert [f["filename"] for f in page.json["files"]] == [name]  # not upstream's demo 2.0
    other = testapp.get("/pypi/alice/simple/other/", headers=JSON)  # other upstream projects still proxied
    assert [f["filename"] for f in other.json["files"]] == ["other-0.1-py3-none-any.whl"]


def test_merge_local_lets_upstream_files_join_a_local_package(mirror_app, testapp, conda_upstream):
    fn, data = publish_local_tool(mirror_app)
    add(mirror_app, url=conda_upstream.url, merge_local=True)
    run = sync(mirror_app)
    assert (run["added"], run["failed"], run["shadowed"]) == (3, 1, 0), run  # our tool-1.0 stays ours
    assert "exists" in run["errors"][0]
    assert {"tool-2.0-0.tar.bz2", "tool-3.0-0.conda", fn} <= set(conda_files(testapp))
    assert testapp.get(f"/conda/alice/noarch/{fn}").body == data


def test_packages_from_before_the_flag_are_read_file_by_file(mirror_app, testapp, conda_upstream):
    publish_local_tool(mirror_app)
    with mirror_app.root() as root:
        package = root.owners["alice"].get_package("tool")
        assert package.local_uploads is True
        del package.local_uploads  # as a package stored by an older release
    add(mirror_app, url=conda_upstream.url)
    assert sync(mirror_app)["shadowed"] == 3


def test_a_package_made_by_a_source_stays_open_to_it(mirror_app, testapp, conda_upstream):
    add(mirror_app, url=conda_upstream.url, filters={"names": ["tool"], "latest": 1})
    assert sync(mirror_app)["added"] == 1
    with mirror_app.root() as root:
        assert root.owners["alice"].get_package("tool").local_uploads is False  # known: no file to read
        root.owners["alice"].sources["up"].configure(filters={"names": ["tool"]})
    run = sync(mirror_app)
    assert (run["added"], run["shadowed"]) == (2, 0), run


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_merge_local_must_be_a_boolean(mirror_app, value):
    from anarepo.sources.model import SourceError

    with pytest.raises(SourceError, match="merge_local"):
        add(mirror_app, url="https://example.org/channel", merge_local=value)
    with mirror_app.root() as root:
        assert "up" not in root.owners["alice"].sources


def test_the_source_api_shows_and_changes_merge_local(mirror_app, testapp):
    token = mirror_app.make_token("alice", scopes=["all"])
    auth = {"Authorization": f"token {token}"}
    created = testapp.post_json("/api/sources/alice", {"name": "up", "kind": "conda", "url": "https://example.org/c"},
                                headers=auth, status=201).json
    assert created["merge_local"] is False
    changed = testapp.patch_json("/api/sources/alice/up", {"merge_local": True}, headers=auth).json
    assert changed["merge_local"] is True
    refused = testapp.patch_json("/api/sources/alice/up", {"merge_local": "yes"}, headers=auth, status=400)
    assert "merge_local" in refused.json["error"]
    assert testapp.get("/api/sources/alice/up", headers=auth).json["merge_local"] is True
