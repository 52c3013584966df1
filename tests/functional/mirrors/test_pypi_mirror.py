"""Mirror mode for PyPI: a second anarepo (PEP 691 JSON) and a static PEP 503 tree as upstreams."""
from __future__ import annotations

import hashlib
from urllib.parse import urljoin

import pytest

from anarepo.testing import served_app

from .conftest import add, sync

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture
def anarepo_upstream(tmp_path, pypi_files):
    with served_app(tmp_path / "upstream-anarepo", users=["up"]) as (harness, live):
        for filename, data in pypi_files.items():
            harness.upload("up", filename, data)
        yield harness, live


def page(testapp, project, label=""):
    return testapp.get(f"/pypi/alice{label}/simple/{project}/", headers=JSON).json


def test_mirror_of_another_anarepo_uses_pep_691_and_verifies_hashes(mirror_app, testapp, anarepo_upstream,
                                                                    pypi_files):
    _, live = anarepo_upstream
    add(mirror_app, kind="pypi", url=f"{live.url}/pypi/up/", filters={"names": ["demo", "other"]}, label="up")
    run = sync(mirror_app)
    assert (run["added"], run["failed"]) == (5, 0), run
    files = {f["filename"]: f for f in page(testapp, "demo", "/label/up")["files"]}
    assert sorted(files) == sorted(f for f in pypi_files if f.startswith("demo-"))
    for filename, info in files.items():
        assert info["hashes"]["sha256"] == hashlib.sha256(pypi_files[filename]).hexdigest()
        assert testapp.get(urljoin("/pypi/alice/label/up/simple/demo/", info["url"])).body == pypi_files[filename]
    # the wheel's core metadata is served like an upload's (PEP 658)
    wheel = files["demo-2.0-py3-none-any.whl"]
    assert wheel.get("core-metadata") or wheel.get("data-dist-info-metadata")
    again = sync(mirror_app)
    assert (again["added"], again["failed"], again["unchanged"]) == (0, 0, 5)


def test_mirror_of_a_static_pep_503_tree_with_a_glob(mirror_app, testapp, pypi_upstream, pypi_files):
    add(mirror_app, kind="pypi", url=pypi_upstream.url, filters={"names": ["d*"]})
    run = sync(mirror_app)
    assert (run["added"], run["failed"]) == (4, 0), run
    assert len(page(testapp, "demo")["files"]) == 4
    testapp.get("/pypi/alice/simple/other/", status=404)
    html = testapp.get("/pypi/alice/simple/demo/").text
    assert "demo-2.0.tar.gz#sha256=" in html


def test_a_percent_encoded_file_name_in_a_pep_503_page_is_mirrored(mirror_app, testapp, tmp_path):
    """PyPI's links write a local version's "+" as "%2B": the file name is the decoded one."""
    from anarepo.package_types.pypi.builders import wheel
    from tests.upstreams import StaticUpstream, write_simple_tree

    files = dict([wheel("demo", "1.0+local.1")])
    write_simple_tree(tmp_path / "tree", files)
    upstream = StaticUpstream(tmp_path / "tree")
    try:
        add(mirror_app, kind="pypi", url=upstream.url, filters={"names": ["demo"]})
        run = sync(mirror_app)
    finally:
        upstream.stop()
    assert (run["added"], run["failed"]) == (1, 0), run
    assert [f["filename"] for f in page(testapp, "demo")["files"]] == list(files)
