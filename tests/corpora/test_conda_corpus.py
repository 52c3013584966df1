"""The conda corpus (conda-forge's shapes, built with conda-package-handling) through
every path that takes conda packages, back with py-rattler and ``anaconda download``,
and conformance with rattler-index field by field.

Paths: ``anaconda upload`` (alice), the web Upload form (bob), ``anarepo upload``
(carol), ``anarepo import`` of the channel directory (dave, in-process: the same
function the command runs).  Deviations from rattler-index are listed once, in
docs/conda.md ("Deviations and notes"), and here in :data:`DEVIATIONS`.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import webtest

from anarepo.testing import served_app
from tests.clients.anaconda_cli import AnacondaCli

from .conda_corpus import build_corpus
from .paths import owned, web_client, web_refusals

rattler = pytest.importorskip("rattler")
pytestmark = [pytest.mark.corpora, pytest.mark.clients, pytest.mark.slow]
BIN = Path(sys.executable).parent
OWNERS = {"anaconda": "alice", "web": "bob", "anarepo": "carol", "import": "dave"}

#: Record fields where anarepo differs from rattler-index on purpose (docs/conda.md).
DEVIATIONS = {
    "indexed_timestamp": "the time of the upload, not of the indexing run",
    "run_exports": "kept in .tar.bz2 records too; rattler-index reads it from .conda archives only",
}
#: Fields kept verbatim (as conda-index keeps them) where rattler-index writes its own
#: spelling of the same match specs (``zlib 1.3.1 *_2`` → ``zlib ==1.3.1 *_2``).
SPEC_FIELDS = ("depends", "constrains")


def canonical(field, value):
    if field in SPEC_FIELDS and isinstance(value, list):
        return [str(rattler.MatchSpec(spec)) for spec in value]
    return value


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    directory = tmp_path_factory.mktemp("conda-corpus")
    return directory, build_corpus(directory)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("conda-corpus-server"), list(OWNERS.values())) as served:
        yield served


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expected(files) -> dict[str, str]:
    return {f"{p.parent.name}/{p.name}": _sha(p) for p in files}


@pytest.fixture(scope="module")
def uploaded(server, corpus, tmp_path_factory):
    harness, live = server
    directory, files = corpus
    work = tmp_path_factory.mktemp("conda-corpus-work")
    out = {}
    cli = AnacondaCli(work / "anaconda", f"{live.url}/api")
    out["anaconda"] = cli("-t", harness.make_token("alice", "cli"), "upload", "--user", "alice", "--no-progress",
                          *files, ok=None, timeout=600)
    out["web"] = web_refusals(web_client(harness, "bob"), files, "bob")
    token = harness.make_token("carol", "anarepo")
    out["anarepo"] = subprocess.run(
        [str(BIN / "anarepo"), "upload", "--url", f"{live.url}/api", "-t", token, "--no-progress", *map(str, files)],
        capture_output=True, text=True, timeout=600,
        env={"HOME": str(work), "PATH": f"{BIN}:/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    from anarepo.package_types.conda.admin import import_channel

    report = import_channel(harness.registry, str(directory), "dave")
    out["import"] = report
    return out


@pytest.mark.parametrize("path_name", list(OWNERS))
def test_every_package_is_accepted_through_every_path(server, corpus, uploaded, path_name):
    harness, _ = server
    result = uploaded[path_name]
    if path_name == "web":
        assert result == []
    elif path_name == "import":
        assert not result.failed, result.failed
    else:
        output = getattr(result, "output", None) or (result.stdout + result.stderr)
        assert result.returncode == 0, output[-4000:]
    assert owned(harness, OWNERS[path_name]) == _expected(corpus[1])


@pytest.mark.parametrize("owner", list(OWNERS.values()))
def test_every_path_indexes_the_same_records(server, uploaded, owner):
    harness, live = server
    testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    reference = {s: testapp.get(f"/conda/alice/{s}/repodata.json").json for s in ("linux-64", "noarch", "win-64")}
    for subdir, doc in reference.items():
        mine = testapp.get(f"/conda/{owner}/{subdir}/repodata.json").json
        strip = lambda d: {sec: {fn: {k: v for k, v in r.items() if k != "indexed_timestamp"}  # noqa: E731
                                 for fn, r in d[sec].items()} for sec in ("packages", "packages.conda")}
        assert strip(mine) == strip(doc), (owner, subdir)


def test_latest_versions_are_conda_order(server, uploaded):
    harness, _ = server
    testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    current = testapp.get("/conda/alice/linux-64/current_repodata.json").json
    versions = {r["name"]: r["version"] for sec in ("packages", "packages.conda") for r in current[sec].values()}
    assert versions["openssl"] == "1.1.1w" and versions["libfoo"] == "2.8.5_1" and versions["python"] == "3.13.1"
    channeldata = testapp.get("/conda/alice/channeldata.json").json["packages"]
    assert channeldata["openssl"]["version"] == "1.1.1w" and channeldata["libfoo"]["version"] == "2.8.5_1"
    assert channeldata["openssl"]["timestamp"] < 10**10  # seconds, as conda-index writes it
    assert testapp.get("/api/package/alice/openssl").json["latest_version"] == "1.1.1w"


@pytest.mark.parametrize("shards", [False, True], ids=["repodata.json", "shards"])
def test_rattler_solves_and_installs_from_the_corpus(server, uploaded, tmp_path, shards):
    _, live = server
    config = rattler.SourceConfig(sharded_enabled=shards, bz2_enabled=False, cache_action="no-cache")
    gateway = rattler.Gateway(cache_dir=str(tmp_path / "cache"), default_config=config)
    channel = rattler.Channel(f"{live.url}/conda/alice")
    records = asyncio.run(rattler.solve([channel], ["openssl", "libfoo", "jpeg", "mkl", "tzdata", "python 3.12.*",
                                                    "mytool"], gateway=gateway, platforms=["linux-64", "noarch"]))
    chosen = {r.name.normalized: str(r.version) for r in records}
    assert chosen["openssl"] == "1.1.1w" and chosen["libfoo"] == "2.8.5_1" and chosen["jpeg"] == "9e"
    prefix = tmp_path / "env"
    asyncio.run(rattler.install(records, target_prefix=str(prefix), cache_dir=str(tmp_path / "pkgs"),
                                show_progress=False))
    assert (prefix / "lib" / "python3.12" / "site-packages" / "mytool" / "cli.py").exists()
    assert (prefix / "bin" / "mytool").exists()  # the noarch: python entry point
    assert (prefix / "lib" / "pkgconfig" / "jpeg.pc").read_text() == f"prefix={prefix}\n"  # placeholder replaced
    for record in records:
        if record.name.normalized in ("openssl", "jpeg"):
            assert record.sha256.hex() and record.md5.hex()


def test_anaconda_download_fetches_every_file_back(server, corpus, uploaded, tmp_path):
    harness, live = server
    _, files = corpus
    cli = AnacondaCli(tmp_path / "home", f"{live.url}/api")
    by_name = {p.name: p for p in files}
    fetched = []
    for name in sorted({p.name.rsplit("-", 2)[0] for p in files}):
        out = tmp_path / "dl" / name
        out.mkdir(parents=True)
        for subdir in ("linux-64", "osx-arm64", "win-64", "noarch"):
            (out / subdir).mkdir()  # anaconda-client 1.16 writes <output>/<subdir>/<file> without creating it
        cli("download", f"alice/{name}", "--output", out, timeout=300)
        fetched += [p for p in out.rglob("*") if p.is_file()]
    latest = {f"{p.parent.name}/{p.name}" for p in files}
    assert fetched and all(p.read_bytes() == by_name[p.name].read_bytes() for p in fetched)
    assert {p.name for p in fetched} <= {k.split("/", 1)[1] for k in latest}


def test_records_match_rattler_index_field_by_field(server, corpus, uploaded):
    """rattler-index over the same directory; every record and every field equal but
    the documented :data:`DEVIATIONS`."""
    from rattler.index import index_fs

    harness, _ = server
    directory, files = corpus
    asyncio.run(index_fs(str(directory), write_zst=False, write_shards=False, force=True))
    testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    compared, differences = 0, []
    for subdir in sorted({p.parent.name for p in files}):
        theirs = json.loads((directory / subdir / "repodata.json").read_text())
        ours = testapp.get(f"/conda/dave/{subdir}/repodata.json").json
        assert ours["info"] == theirs["info"]
        for section in ("packages", "packages.conda"):
            assert sorted(ours[section]) == sorted(theirs[section]), (subdir, section)
            for fn, rec in theirs[section].items():
                mine = ours[section][fn]
                for field in sorted(set(mine) | set(rec)):
                    if field in DEVIATIONS:
                        continue
                    if canonical(field, mine.get(field)) != canonical(field, rec.get(field)):
                        differences.append((fn, field, mine.get(field), rec.get(field)))
                if fn.endswith(".conda") and "run_exports" in rec:
                    assert mine["run_exports"] == rec["run_exports"], fn
                compared += 1
    assert differences == [], "\n".join(map(repr, differences))
    assert compared == len(files)
