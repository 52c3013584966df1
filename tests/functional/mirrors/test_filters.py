"""Filters per kind, on both faces: what a filter leaves out appears in no document."""
from __future__ import annotations

import pytest

from anarepo.sources.filters import Filters
from anarepo.sources.model import SourceError

from .conftest import add, sync

ALL_CONDA = {"noarch/tool-1.0-0.tar.bz2", "noarch/tool-2.0-0.tar.bz2", "noarch/tool-3.0-0.conda",
             "noarch/gplthing-1.0-0.tar.bz2", "linux-64/libdep-1.0-h1.conda",
             "linux-64/libdep-1.0-py311h2.tar.bz2", "linux-64/libdep-0.9-h0.tar.bz2"}


def conda_documents(testapp):
    """Every conda document of alice's main label, as text, and the file keys of its repodata."""
    texts, keys = [], set()
    for subdir in ("noarch", "linux-64"):
        doc = testapp.get(f"/conda/alice/{subdir}/repodata.json")
        texts.append(doc.text)
        keys |= {f"{subdir}/{fn}" for fn in {**doc.json["packages"], **doc.json["packages.conda"]}}
        texts.append(testapp.get(f"/conda/alice/{subdir}/repodata_shards.msgpack.zst").body.hex())
    texts.append(testapp.get("/conda/alice/channeldata.json").text)
    texts.append(testapp.get("/api/packages/alice").text)
    texts.append(testapp.get("/alice").text)
    return "\n".join(texts), keys


@pytest.mark.parametrize("filters,expected", [
    ({"names": ["tool", "lib*"]}, ALL_CONDA - {"noarch/gplthing-1.0-0.tar.bz2"}),
    ({"exclude": ["tool"]}, {"noarch/gplthing-1.0-0.tar.bz2", "linux-64/libdep-1.0-h1.conda",
                             "linux-64/libdep-1.0-py311h2.tar.bz2", "linux-64/libdep-0.9-h0.tar.bz2"}),
    ({"specs": ["tool >=2,<3", "libdep 1.0 h*"]},
     {"noarch/tool-2.0-0.tar.bz2", "noarch/gplthing-1.0-0.tar.bz2", "linux-64/libdep-1.0-h1.conda"}),
    ({"subdirs": ["linux-64"]}, {k for k in ALL_CONDA if k.startswith("linux-64/")}),
    ({"builds": ["py311*"]}, {"linux-64/libdep-1.0-py311h2.tar.bz2"}),
    ({"licenses": ["BSD-*"]}, ALL_CONDA - {"noarch/gplthing-1.0-0.tar.bz2"}),
    ({"latest": 1}, {"noarch/tool-3.0-0.conda", "noarch/gplthing-1.0-0.tar.bz2", "linux-64/libdep-1.0-h1.conda",
                     "linux-64/libdep-1.0-py311h2.tar.bz2"}),
    ({"before": "2000-01-01"}, set()),
    ({"after": "2000-01-01"}, ALL_CONDA),
])
def test_conda_filters(mirror_app, testapp, conda_upstream, filters, expected):
    add(mirror_app, url=conda_upstream.url, subdirs=("noarch", "linux-64"), filters=filters)
    run = sync(mirror_app)
    assert run["failed"] == 0, run
    text, keys = conda_documents(testapp)
    assert keys == expected
    for name in ("tool", "gplthing", "libdep"):
        if not any(f"/{name}-" in k for k in expected):
            assert f'"{name}' not in text and f">{name}<" not in text and name.encode().hex() not in text


def pypi_documents(testapp):
    root = testapp.get("/pypi/alice/simple/")
    pages = {}
    for project in ("demo", "other"):
        page = testapp.get(f"/pypi/alice/simple/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"},
                           expect_errors=True)
        pages[project] = sorted(f["filename"] for f in page.json["files"]) if page.status_int == 200 else None
    return root.text, pages


@pytest.mark.parametrize("filters,expected", [
    ({"names": ["demo"]}, {"demo": ["demo-1.0-py3-none-any.whl", "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                                    "demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"], "other": None}),
    ({"names": ["*"], "exclude": ["demo"]}, {"demo": None, "other": ["other-0.1-py3-none-any.whl"]}),
    ({"names": ["demo", "other"], "specs": ["demo<2"]}, {"demo": ["demo-1.0-py3-none-any.whl"],
                                                       "other": ["other-0.1-py3-none-any.whl"]}),
    ({"names": ["demo"], "platforms": ["any"]}, {"demo": ["demo-1.0-py3-none-any.whl", "demo-2.0-py3-none-any.whl"],
                                               "other": None}),
    ({"names": ["demo"], "platforms": ["source", "manylinux*_x86_64"]},
     {"demo": ["demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl", "demo-2.0.tar.gz"], "other": None}),
    ({"names": ["demo"], "latest": 1}, {"demo": ["demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                                                 "demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"], "other": None}),
])
def test_pypi_filters(mirror_app, testapp, pypi_upstream, filters, expected):
    add(mirror_app, kind="pypi", url=pypi_upstream.url, filters=filters)
    run = sync(mirror_app)
    assert run["failed"] == 0, run
    root, pages = pypi_documents(testapp)
    assert pages == expected
    for project, files in expected.items():
        assert (f">{project}<" in root) == (files is not None)


def test_yanked_pypi_files_are_skipped_unless_kept(mirror_app, testapp, tmp_path, pypi_files):
    from tests.upstreams import StaticUpstream, write_simple_tree

    write_simple_tree(tmp_path / "tree", pypi_files, yanked={"demo-1.0-py3-none-any.whl"})
    upstream = StaticUpstream(tmp_path / "tree")
    try:
        add(mirror_app, kind="pypi", url=upstream.url, filters={"names": ["demo"]})
        add(mirror_app, name="keep", kind="pypi", url=upstream.url, label="all",
            filters={"names": ["demo"], "yanked": "keep"})
        assert sync(mirror_app)["added"] == 3
        assert sync(mirror_app, name="keep")["added"] == 4
    finally:
        upstream.stop()
    files = testapp.get("/pypi/alice/label/all/simple/demo/",
                        headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json["files"]
    assert {f["filename"]: f["yanked"] for f in files}["demo-1.0-py3-none-any.whl"] is not False


@pytest.mark.parametrize("kind,filters,message", [
    ("conda", {"colour": ["red"]}, "unknown filter"),
    ("conda", {"specs": ["nump*"]}, "invalid match spec"),
    ("pypi", {"specs": ["demo>>2"]}, "invalid requirement"),
    ("pypi", {"subdirs": ["linux-64"]}, "use platforms"),
    ("conda", {"platforms": ["any"]}, "use subdirs"),
    ("conda", {"latest": "many"}, "number"),
    ("conda", {"after": "yesterday"}, "date"),
    ("pypi", {"yanked": "maybe"}, "skip or keep"),
    ("conda", {"names": "x" * 300}, "short strings"),
])
def test_invalid_filters_are_refused(kind, filters, message):
    with pytest.raises(SourceError, match=message):
        Filters.parse(filters, kind)


def test_label_filters_apply_to_every_source_of_the_label(mirror_app, testapp, conda_upstream, pypi_upstream):
    from anarepo.sources.service import set_label_filters

    add(mirror_app, url=conda_upstream.url, subdirs=("noarch", "linux-64"), filters={"names": ["tool", "libdep"]})
    add(mirror_app, name="py", kind="pypi", url=pypi_upstream.url, filters={"names": ["demo", "other"]})
    with mirror_app.root() as root:
        set_label_filters(root.owners["alice"], "main", "conda", {"latest": 1, "exclude": ["libdep"]})
        set_label_filters(root.owners["alice"], "main", "pypi", {"exclude": ["other"]})
    assert sync(mirror_app)["failed"] == 0 and sync(mirror_app, name="py")["failed"] == 0
    _, keys = conda_documents(testapp)
    assert keys == {"noarch/tool-3.0-0.conda"}
    _, pages = pypi_documents(testapp)
    assert pages["other"] is None and len(pages["demo"]) == 4
    # cleared: the next run re-reads the upstream (no 304 shortcut) and brings the rest
    with mirror_app.root() as root:
        set_label_filters(root.owners["alice"], "main", "conda", {})
    assert sync(mirror_app)["added"] == 5


def test_label_filters_over_the_api(mirror_app, testapp):
    import json

    token = mirror_app.make_token("alice", "t")
    answer = testapp.patch("/api/sources/alice", json.dumps({"label": "forge", "kind": "pypi",
                                                             "filters": {"platforms": ["any"]}}),
                           headers={"Authorization": f"token {token}"}).json
    assert answer["source_filters"] == {"pypi": {"platforms": ["any"]}}
    refused = testapp.patch("/api/sources/alice", json.dumps({"label": "forge", "kind": "pypi",
                                                              "filters": {"subdirs": ["noarch"]}}),
                            headers={"Authorization": f"token {token}"}, status=400)
    assert "platforms" in refused.json["error"]
    with mirror_app.root() as root:
        assert root.owners["alice"].labels["forge"].source_filters == {"pypi": {"platforms": ["any"]}}
