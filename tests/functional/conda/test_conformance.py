"""Conformance with rattler-index: the same files indexed by ``rattler.index.index_fs`` and by
anarepo give records with the same fields and values (the indexing time aside)."""
from __future__ import annotations

import asyncio
import glob
import json
import os

import msgpack
import pytest
import zstandard

from tests.conda_builders import write_package, publish_conda

rattler_index = pytest.importorskip("rattler.index")

PACKAGES = [
    (("plain", "1.0"), {}),
    (("plain", "1.0", "1"), {"fmt": ".conda"}),
    (("pyish", "2.3.4", "pyhd8ed1ab_0"), {"index_extra": {"noarch": "python", "build_number": 7,
                                                            "constrains": ["other >=2,<3"],
                                                            "license_family": "MIT"},
                                          "depends": ["python >=3.8", "requests"]}),
    (("native", "0.1.0", "h1234_2"), {"subdir": "linux-64", "fmt": ".conda",
                                      "index_extra": {"track_features": "mkl", "features": "blas"},
                                      "run_exports": {"weak": ["native >=0.1"]}}),
    (("native", "0.2.0", "h1234_0"), {"subdir": "linux-64", "depends": ["libc >=2"]}),
    (("mac", "1.0", "0"), {"subdir": "osx-arm64", "index_extra": {"timestamp": 1_600_000_000}}),
    (("exporter", "1.0", "0"), {"run_exports": {"strong": ["exporter >=1.0"], "weak_constrains": ["x <2"]}}),
    (("win", "1.0", "0"), {"subdir": "win-64", "fmt": ".conda", "index_extra": {"license": "Apache-2.0"}}),
    (("purled", "1.0", "pyh_0"), {"index_extra": {"noarch": "python", "purls": ["pkg:pypi/purled@1.0"]}}),
    (("purled", "1.1", "pyh_0"), {"fmt": ".conda", "index_extra": {"noarch": "python", "purls": ["pkg:pypi/purled"],
                                                                    "extra_depends": {"test": ["pytest >=8"]},
                                                                    "flags": ["cuda"]}}),
    (("python", "3.13.1", "h1_0_cp313t"), {"subdir": "linux-64", "fmt": ".conda",
                                           "index_extra": {"python_site_packages_path": "lib/python3.13t/site-packages",
                                                           "timestamp": 1_733_000_000}}),
]

IGNORED = {"indexed_timestamp"}


def comparable(fn: str, rec: dict) -> dict:
    """Fields to compare: all but the indexing time.  rattler-index reads
    ``run_exports`` only from .conda archives; anarepo carries it for both formats."""
    ignored = IGNORED | ({"run_exports"} if fn.endswith(".tar.bz2") else set())
    return {k: v for k, v in rec.items() if k not in ignored}


def unzstd(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


@pytest.fixture
def indexed(tmp_path):
    directory = tmp_path / "channel"
    paths = [write_package(directory, *args, **kw) for args, kw in PACKAGES]
    asyncio.run(rattler_index.index_fs(str(directory), write_zst=True, write_shards=True, force=True))
    return directory, paths


def test_records_match_rattler_index(app, testapp, indexed):
    directory, paths = indexed
    app.make_user("alice")
    for path in paths:
        publish_conda(app, "alice", f"{path.parent.name}/{path.name}", path.read_bytes())
    subdirs = sorted(d for d in os.listdir(directory) if not d.startswith("."))
    assert subdirs == ["linux-64", "noarch", "osx-arm64", "win-64"]
    compared = 0
    for subdir in subdirs:
        theirs = json.loads((directory / subdir / "repodata.json").read_text())
        ours = testapp.get(f"/conda/alice/{subdir}/repodata.json").json
        assert ours["info"] == theirs["info"] and ours["repodata_version"] == theirs["repodata_version"]
        for section in ("packages", "packages.conda"):
            assert sorted(ours[section]) == sorted(theirs[section]), (subdir, section)
            for fn, rec in theirs[section].items():
                mine = ours[section][fn]
                assert comparable(fn, mine) == comparable(fn, rec), fn
                assert set(mine) - set(rec) <= ({"run_exports"} if fn.endswith(".tar.bz2") else set())
                compared += 1
        # the .zst is the same document as the .json
        assert json.loads(unzstd(testapp.get(f"/conda/alice/{subdir}/repodata.json.zst").body)) == ours
    assert compared == len(PACKAGES)


def test_shards_match_rattler_index(app, testapp, indexed):
    directory, paths = indexed
    app.make_user("alice")
    for path in paths:
        publish_conda(app, "alice", f"{path.parent.name}/{path.name}", path.read_bytes())
    for subdir in ("noarch", "linux-64"):
        theirs_index = msgpack.unpackb(unzstd((directory / subdir / "repodata_shards.msgpack.zst").read_bytes()))
        ours_index = msgpack.unpackb(unzstd(testapp.get(f"/conda/alice/{subdir}/repodata_shards.msgpack.zst").body))
        assert set(ours_index["shards"]) == set(theirs_index["shards"])
        for key in ("subdir", "base_url", "shards_base_url"):
            assert ours_index["info"][key] == theirs_index["info"][key]
        for name, digest in theirs_index["shards"].items():
            theirs = msgpack.unpackb(unzstd((directory / subdir / "shards" / f"{digest.hex()}.msgpack.zst").read_bytes()))
            ours = msgpack.unpackb(unzstd(testapp.get(
                f"/conda/alice/{subdir}/shards/{ours_index['shards'][name].hex()}.msgpack.zst").body))
            assert set(ours) == set(theirs)
            for section in ("packages", "packages.conda"):
                assert set(ours[section]) == set(theirs[section])
                for fn, rec in theirs[section].items():
                    assert comparable(fn, ours[section][fn]) == comparable(fn, rec), fn
    assert glob.glob(str(directory / "noarch" / "shards" / "*.msgpack.zst"))
