"""Every real PyPI file of the corpus through every upload path, and back with real clients.

One live server for the module; each path uploads the whole corpus into its own
owner: twine → alice, ``uv publish`` → bob, ``anaconda upload`` → carol, the web
Upload form → dave.  Nothing valid may be refused.  Then the files come back:
pip and uv install the wheels built for this interpreter, every file is
downloaded through each owner's index and compared byte for byte, ``anaconda
download`` fetches carol's packages, and the simple pages are checked with the
``pypi-simple`` parser (hashes, PEP 658 metadata byte-identical to each wheel's
METADATA, PEP 700 fields).
"""
from __future__ import annotations

import email.parser
import hashlib
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.tags import sys_tags
from packaging.version import Version

from anarepo.testing import served_app
from tests.clients.anaconda_cli import AnacondaCli
from tests.clients.test_pip_uv_twine import run, twine_upload

from .paths import owned, web_client, web_refusals

pytestmark = [pytest.mark.corpora, pytest.mark.clients, pytest.mark.slow]

BIN = Path(sys.executable).parent
OWNERS = {"twine": "alice", "uv": "bob", "anaconda": "carol", "web": "dave"}


def project_version(path: Path) -> tuple[str, str]:
    if path.name.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(path.name)
    else:
        name, version = parse_sdist_filename(path.name)
    return str(name), str(version)


def wheel_metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        (meta,) = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        return zf.read(meta)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("pypi-corpus"), list(OWNERS.values())) as served:
        yield served


@pytest.fixture(scope="module")
def url(server):
    return server[1].url


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("pypi-corpus-work")


def test_the_corpus_has_the_variety_it_promises(pypi_corpus):
    names = [p.name for p in pypi_corpus]
    assert len(names) >= 80
    assert any(n.endswith(".zip") for n in names) and any(n.endswith(".tar.gz") for n in names)
    assert any("abi3" in n for n in names) and any("manylinux" in n for n in names)
    assert any("musllinux" in n for n in names) and any("win_amd64" in n for n in names)
    assert any("macosx" in n for n in names)
    versions = defaultdict(set)
    for path in pypi_corpus:
        name, version = project_version(path)
        versions[name].add(version)
    assert max(len(v) for v in versions.values()) >= 4
    descriptions = [len(wheel_metadata(p)) for p in pypi_corpus if p.name.startswith(("pydantic-2", "black-"))
                    and p.name.endswith(".whl")]
    assert max(descriptions) > 90_000


def twine_takes(path: Path) -> bool:
    """twine 7 checks metadata before uploading: it refuses ``License-Expression``
    under a Metadata-Version older than 2.4 (hatchling wrote that; PyPI took it)."""
    from twine.exceptions import InvalidDistribution
    from twine.package import PackageFile

    try:
        PackageFile.from_filename(str(path), comment=None)
        return True
    except InvalidDistribution:
        return False


def uv_takes(path: Path) -> bool:
    """uv publish skips file names that are not normalized (``MarkupSafe-…``,
    ``zope.interface-…``: as PyPI serves them) and refuses ``.zip`` sdists."""
    if path.name.endswith(".zip"):
        return False
    if path.name.endswith(".whl"):
        name = path.name.split("-", 1)[0]
    else:
        name = path.name[: -len(".tar.gz")].rsplit("-", 1)[0]
    return name == re.sub(r"[-_.]+", "_", name).lower()


def anaconda_takes(path: Path) -> bool:
    """anaconda-client reads the metadata itself before uploading, and cannot read
    some old zip sdists (WMI 1.4.9: "Trouble reading metadata")."""
    from binstar_client.inspect_package.pypi import inspect_pypi_package

    try:
        with open(path, "rb") as fileobj:
            inspect_pypi_package(str(path), fileobj)
        return True
    except Exception:
        return False


def client_sets(pypi_corpus) -> dict[str, list[Path]]:
    """The files each path can carry: what its client sends (our server must take all)."""
    return {"twine": [p for p in pypi_corpus if twine_takes(p)], "uv": [p for p in pypi_corpus if uv_takes(p)],
            "anaconda": [p for p in pypi_corpus if anaconda_takes(p)], "web": list(pypi_corpus)}


@pytest.fixture(scope="module")
def uploaded(server, url, work, pypi_corpus):
    """Upload the corpus through every path once; return the outputs per path."""
    harness, live = server
    outputs = {}
    sets = client_sets(pypi_corpus)
    token = harness.make_token("alice", "twine", ["pypi:upload"])
    outputs["twine"] = twine_upload(url, token, sets["twine"], work, ok=None)
    token = harness.make_token("bob", "uv", ["pypi:upload"])
    outputs["uv"] = run([BIN / "uv", "publish", "--publish-url", f"{url}/pypi/bob/", "--token", token,
                         *sets["uv"]], work, ok=None, timeout=600)
    cli = AnacondaCli(work / "anaconda-home", f"{url}/api")
    token = harness.make_token("carol", "cli")
    outputs["anaconda"] = cli("-t", token, "upload", "--user", "carol", "--no-progress", *sets["anaconda"],
                              ok=None, timeout=900)
    outputs["web"] = web_refusals(web_client(harness, "dave"), pypi_corpus, "dave")
    return outputs


@pytest.mark.parametrize("path_name", list(OWNERS))
def test_every_file_is_accepted_through_every_path(server, uploaded, pypi_corpus, path_name):
    harness, _ = server
    result = uploaded[path_name]
    if path_name == "web":
        assert result == []
    else:
        assert result.returncode == 0, result.output[-4000:]
    carried = client_sets(pypi_corpus)[path_name]
    assert len(carried) >= {"twine": 75, "uv": 60, "anaconda": 80}.get(path_name, len(pypi_corpus))
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in carried}
    assert owned(harness, OWNERS[path_name]) == expected


def _latest_native_wheels(pypi_corpus) -> list[str]:
    """One pinned requirement per project whose wheel this interpreter can install."""
    supported = set(sys_tags())
    best = {}
    for path in pypi_corpus:
        if not path.name.endswith(".whl"):
            continue
        name, version, _, tags = parse_wheel_filename(path.name)
        if tags & supported:
            best[name] = max(best.get(name, version), version)
    return sorted(f"{name}=={version}" for name, version in best.items())


@pytest.mark.parametrize("installer,owner", [("pip", "alice"), ("uv", "bob"), ("pip", "carol"), ("uv", "dave")])
def test_wheels_install_back_with_pip_and_uv(uploaded, url, work, pypi_corpus, installer, owner):
    owner_path = next(k for k, v in OWNERS.items() if v == owner)
    requirements = _latest_native_wheels(client_sets(pypi_corpus)[owner_path])
    assert len(requirements) >= 30
    target = work / f"target-{installer}-{owner}"
    index = f"{url}/pypi/{owner}/simple/"
    if installer == "pip":
        cmd = [BIN / "pip", "install", "--no-deps", "--only-binary", ":all:", "--no-cache-dir", "--target", target,
               "--index-url", index, *requirements]
    else:
        cmd = [BIN / "uv", "pip", "install", "--no-deps", "--no-build", "--target", target, "--index-url", index,
               "--python", sys.executable, *requirements]
    run(cmd, work, timeout=600)
    installed = {canonicalize_name(p.name.split("-")[0]) for p in target.glob("*.dist-info")}
    assert installed == {canonicalize_name(r.split("==")[0]) for r in requirements}


@pytest.fixture(scope="module")
def simple_client(uploaded):
    from pypi_simple import PyPISimple

    with PyPISimple() as client:
        yield client


@pytest.mark.parametrize("owner", list(OWNERS.values()))
def test_pypi_simple_reads_every_file_back_with_its_hashes_and_metadata(
        uploaded, url, simple_client, pypi_corpus, owner):
    """pypi-simple parses our pages (HTML and PEP 691 JSON); each file downloads with
    its sha256, wheels have PEP 658 metadata byte-identical to their METADATA, and
    PEP 700's versions, size and upload-time are there."""
    from pypi_simple import ACCEPT_JSON_ONLY, ACCEPT_HTML_ONLY, PyPISimple

    by_project = defaultdict(dict)
    owner_path = next(k for k, v in OWNERS.items() if v == owner)
    for path in client_sets(pypi_corpus)[owner_path]:
        by_project[canonicalize_name(project_version(path)[0])][path.name] = path
    endpoint = f"{url}/pypi/{owner}/simple/"
    index = PyPISimple(endpoint, session=simple_client.s)
    assert {canonicalize_name(p) for p in index.get_index_page().projects} == set(by_project)
    for project, files in by_project.items():
        json_page = index.get_project_page(project, accept=ACCEPT_JSON_ONLY)
        html_page = index.get_project_page(project, accept=ACCEPT_HTML_ONLY)
        assert sorted(p.filename for p in json_page.packages) == sorted(files)
        assert sorted(p.filename for p in html_page.packages) == sorted(files)
        assert {str(Version(v)) for v in json_page.versions} == {project_version(p)[1] for p in files.values()}
        html_by_name = {p.filename: p for p in html_page.packages}
        for package in json_page.packages:
            data = files[package.filename].read_bytes()
            assert package.digests["sha256"] == hashlib.sha256(data).hexdigest()
            assert html_by_name[package.filename].digests["sha256"] == package.digests["sha256"]
            assert package.size == len(data) and package.upload_time is not None
            assert not package.is_yanked
            if package.filename.endswith(".whl"):
                metadata = wheel_metadata(files[package.filename])
                assert package.has_metadata and html_by_name[package.filename].has_metadata
                assert index.get_package_metadata_bytes(package) == metadata
                assert package.metadata_digests["sha256"] == hashlib.sha256(metadata).hexdigest()
                requires = email.parser.BytesHeaderParser().parsebytes(metadata).get("Requires-Python")
                assert (package.requires_python or None) == (requires.strip() if requires else None)
            body = simple_client.s.get(package.url, timeout=60).content
            assert body == data, package.filename


def test_anaconda_download_fetches_carols_files_back(server, uploaded, url, work, pypi_corpus):
    harness, _ = server
    cli = AnacondaCli(work / "download-home", f"{url}/api")
    with harness.root() as root:
        packages = sorted(root.owners["carol"].packages)
    local = {p.name: p.read_bytes() for p in client_sets(pypi_corpus)["anaconda"]}
    fetched = 0
    for name in packages:
        out = work / "downloads" / name
        out.mkdir(parents=True)
        cli("download", f"carol/{name}", "--output", out, timeout=300)
        files = [p for p in out.rglob("*") if p.is_file()]
        assert files, name
        for path in files:
            assert path.read_bytes() == local[path.name], path.name
            fetched += 1
    assert fetched >= len(packages)
