"""A database written by an earlier release opens, evolves and serves what it served.

``tests/fixtures/legacy/db-ddb27c0.tar.gz`` was made by ``make_legacy_db.py`` (beside
it) with the code of commit ddb27c0: users, an organization, every package type,
labels, private packages, a token.  It also records the body of every index document
that release answered, anonymously and with the token.  Today's code must open it,
run whatever evolve steps are pending, and answer the same index documents byte for
byte (class paths are schema; moved classes keep import aliases).  API JSON may gain
fields, never lose or change one.
"""
from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from urllib.parse import urljoin

import pytest
import webtest

from anarepo import main
from anarepo.testing import AppHarness, make_settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy" / "db-ddb27c0.tar.gz"


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("legacy")
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(workdir, filter="data")
    record = json.loads((workdir / "documents.json").read_text())
    harness = AppHarness(main({}, **make_settings(workdir)))
    testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    yield harness, testapp, record
    harness.close()


def _cases():
    with tarfile.open(FIXTURE) as tar:
        record = json.load(tar.extractfile("documents.json"))
    return sorted(record["documents"])


def _superset(old, new, where="$"):
    """Every key and value of ``old`` is in ``new`` (lists element-wise)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, value in old.items():
            assert key in new, f"{where}.{key} is gone"
            _superset(value, new[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for i, (a, b) in enumerate(zip(old, new)):
            _superset(a, b, f"{where}[{i}]")
    else:
        assert old == new, f"{where}: {old!r} became {new!r}"


@pytest.mark.parametrize("case", _cases())
def test_the_earlier_release_documents_are_served_unchanged(legacy, case):
    harness, testapp, record = legacy
    who, path, headers = case.split(" ", 2)
    headers = json.loads(headers)
    if who == "alice":
        headers["Authorization"] = f"token {record['token']}"
    expected = record["documents"][case]
    response = testapp.get(path, headers=headers, expect_errors=True)
    assert response.status_int == expected["status"]
    if path.startswith("/api/") and expected["status"] == 200:
        _superset(json.loads(record["bodies"][case]), response.json)
        return
    assert response.content_type == expected["content_type"]
    assert hashlib.sha256(response.body).hexdigest() == expected["sha256"], (
        f"{case}: the document differs from what release ddb27c0 served for the same database")


def test_every_stored_file_is_intact_and_evolve_steps_are_finished(legacy):
    harness, testapp, record = legacy
    seen = {}
    with harness.root() as root:
        assert not harness.registry.anarepo_evolve.pending(root)
        for owner in root.owners.values():
            for package in owner.packages.values():
                for release in package.releases.values():
                    for dist in release.files.values():
                        with dist.blob.open("r") as handle:
                            seen[f"{owner.login}/{package.name}/{release.version}/{dist.basename}"] = (
                                hashlib.sha256(handle.read()).hexdigest())
    assert seen == record["files"]


def test_plugin_state_moved_into_the_owners_indexes(legacy):
    """The conda channel, the PyPI index and the R index an older release hung on
    owners as attributes now live in ``Owner.indexes`` (evolve steps moved the same
    objects, so the documents above keep their ETags and bytes)."""
    harness, testapp, record = legacy
    with harness.root() as root:
        homes = {}
        for owner in root.owners.values():
            owner._p_activate()
            assert not {"conda_channel", "pypi_index", "r_index"} & set(owner.__dict__), owner.login
            homes[owner.login] = set(owner.indexes.keys())
    assert set().union(*homes.values()) == {"conda", "pypi", "r"}


def test_plugin_data_on_files_moved_into_their_extras_and_reads_the_same(legacy):
    """A wheel's METADATA (PEP 658) and a notebook's rendered HTML, which an older
    release hung on the Distribution as ``pypi_metadata`` and ``rendered``, live in
    ``Distribution.extras`` after the evolve steps, and the faces serve them."""
    harness, testapp, record = legacy
    extras = {}
    with harness.root() as root:
        for owner in root.owners.values():
            for package in owner.packages.values():
                for dist in package.distributions():
                    dist._p_activate()
                    assert not {"pypi_metadata", "rendered"} & set(dist.__dict__), dist.basename
                    extras[f"{owner.login}/{dist.basename}"] = (dist.type, sorted(dist.extras))
    assert {kind: keys for kind, keys in extras.values() if kind not in ("pypi", "ipynb")} == {
        kind: [] for kind, _ in extras.values() if kind not in ("pypi", "ipynb")}
    assert all(keys == ["pypi"] for kind, keys in extras.values() if kind == "pypi")
    assert extras["alice/analysis.ipynb"] == ("ipynb", ["ipynb"])

    headers = {"Authorization": f"token {record['token']}", "Accept": "application/vnd.pypi.simple.v1+json"}
    page = testapp.get("/pypi/alice/simple/alpha-lib/", headers=headers).json
    wheel = next(f for f in page["files"] if f["filename"] == "alpha_lib-1.0-py3-none-any.whl")
    url = urljoin("/pypi/alice/simple/alpha-lib/", wheel["url"])
    metadata = testapp.get(url + ".metadata", headers={"Authorization": headers["Authorization"]})
    assert hashlib.sha256(metadata.body).hexdigest() == wheel["core-metadata"]["sha256"]
    assert b"Name: alpha-lib" in metadata.body and b"Requires-Python: >=3.8" in metadata.body
    notebook = testapp.get("/alice/analysis/1/notebook/analysis.ipynb",
                           headers={"Authorization": f"token {record['token']}"})
    assert notebook.content_type == "text/html" and "Analysis" in notebook.text


def test_fields_older_releases_made_on_first_use_come_from_the_evolve_step(legacy):
    """The staging area, notices, inboxes and download histories, which an older
    release created on first use (a lazy ``getattr``), exist on every object once
    ``core.declared-fields-1`` ran, so no code path creates them lazily; the
    API's upload staging and the package pages then work on the old database."""
    harness, testapp, record = legacy
    with harness.root() as root:
        root._p_activate()
        assert "staging" in root.__dict__
        for owner in root.owners.values():
            owner._p_activate()
            assert "notices" in owner.__dict__, owner.login
            assert ("inbox" in owner.__dict__) == (owner.kind == "user"), owner.login
            for package in owner.packages.values():
                package._p_activate()
                assert {"download_history", "version_scheme"} <= set(package.__dict__), package.name
        alpha = root.owners["alice"].packages["alpha-lib"]
        assert alpha.version_scheme == "pep440" and root.owners["alice"].packages["tool"].version_scheme == "conda"
    headers = {"Authorization": f"token {record['token']}"}
    created = testapp.post_json("/api/alice/notices", {"message": "Maintenance tonight"}, headers=headers)
    listed = testapp.get("/api/alice/notices", headers=headers).json
    assert created.json["message"] in str(listed)
    assert "tool" in testapp.get("/alice/tool", headers=headers).text  # the page reads the download history
