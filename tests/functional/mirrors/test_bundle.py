"""Air-gapped transfer: export a mirror, import it into a fresh offline server, same documents."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import webtest

from anarepo import main
from anarepo.sources.bundle import export_bundle, import_bundle
from anarepo.sources.model import SourceError
from anarepo.testing import AppHarness, make_settings

from .conftest import add, sync

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture
def offline(tmp_path):
    harness = AppHarness(main({}, **make_settings(tmp_path / "offline")))
    harness.make_user("alice")
    yield harness, webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    harness.close()


def documents(testapp):
    out = {}
    for subdir in ("noarch", "linux-64"):
        for doc in ("repodata.json", "current_repodata.json"):
            out[f"{subdir}/{doc}"] = testapp.get(f"/conda/alice/label/forge/{subdir}/{doc}").body
    out["pypi-root"] = testapp.get("/pypi/alice/label/forge/simple/").body
    for project in ("demo",):
        out[f"{project}.html"] = testapp.get(f"/pypi/alice/label/forge/simple/{project}/").body
        out[f"{project}.json"] = testapp.get(f"/pypi/alice/label/forge/simple/{project}/", headers=JSON).body
    return out


def test_export_then_import_gives_byte_identical_documents(mirror_app, testapp, conda_upstream, pypi_upstream,
                                                           offline, tmp_path):
    add(mirror_app, url=conda_upstream.url, subdirs=("noarch", "linux-64"), label="forge")
    add(mirror_app, name="pypi", kind="pypi", url=pypi_upstream.url, label="forge", filters={"names": ["demo"]})
    # a patched record travels too
    path = Path(conda_upstream.directory) / "noarch" / "repodata.json"
    doc = json.loads(path.read_text())
    doc["packages"]["tool-1.0-0.tar.bz2"]["depends"] = ["python"]
    path.write_text(json.dumps(doc))
    assert sync(mirror_app)["failed"] == 0 and sync(mirror_app, name="pypi")["failed"] == 0
    bundles = tmp_path / "bundles"
    assert export_bundle(mirror_app.registry, "alice", "up", str(bundles / "conda")) == 7
    assert export_bundle(mirror_app.registry, "alice", "pypi", str(bundles / "pypi")) == 4
    harness, offline_app = offline
    for name in ("conda", "pypi"):
        run = import_bundle(harness.registry, str(bundles / name), "alice")
        assert run["failed"] == 0, run
    assert documents(offline_app) == documents(testapp)
    # a second import of the same bundle changes nothing
    assert import_bundle(harness.registry, str(bundles / "conda"), "alice")["added"] == 0
    assert documents(offline_app) == documents(testapp)


def test_a_damaged_bundle_is_refused_before_anything_is_stored(mirror_app, conda_upstream, offline, tmp_path):
    add(mirror_app, url=conda_upstream.url, label="forge")
    sync(mirror_app)
    bundle = tmp_path / "bundle"
    export_bundle(mirror_app.registry, "alice", "up", str(bundle))
    victim = next((bundle / "files").iterdir())
    victim.write_bytes(b"x" * victim.stat().st_size)
    harness, offline_app = offline
    with pytest.raises(SourceError, match="damaged"):
        import_bundle(harness.registry, str(bundle), "alice")
    (bundle / "manifest.json").write_text((bundle / "manifest.json").read_text().replace("tool", "t00l"))
    with pytest.raises(SourceError, match="does not match its sha256"):
        import_bundle(harness.registry, str(bundle), "alice")
    with harness.root() as root:
        assert len(root.owners["alice"].packages) == 0 and len(root.owners["alice"].sources) == 0


@pytest.mark.parametrize("change", [
    lambda m: m["files"][0].update(sha256="../../../../etc/passwd"),
    lambda m: m["files"][0].update(patch={"name": "other", "subdir": "linux-64"}),
    lambda m: m["files"][0].update(patch={"depends": "python"}),
    lambda m: m["files"][0].update(upload_time="yesterday"),
    lambda m: m["files"][0].update(size="12"),
    lambda m: m["files"].append("not an entry"),
    lambda m: m.update(source=None),
    lambda m: m.update(files={}),
])
def test_a_hostile_manifest_with_a_matching_digest_is_refused(mirror_app, conda_upstream, offline, tmp_path, change):
    """manifest.json.sha256 proves the bundle whole, not honest: anyone can rewrite both."""
    import hashlib

    add(mirror_app, url=conda_upstream.url, label="forge")
    sync(mirror_app)
    bundle = tmp_path / "bundle"
    export_bundle(mirror_app.registry, "alice", "up", str(bundle))
    manifest = json.loads((bundle / "manifest.json").read_text())
    change(manifest)
    raw = json.dumps(manifest).encode()
    (bundle / "manifest.json").write_bytes(raw)
    (bundle / "manifest.json.sha256").write_text(hashlib.sha256(raw).hexdigest() + "  manifest.json\n")
    harness, _ = offline
    with pytest.raises(SourceError, match="malformed"):
        import_bundle(harness.registry, str(bundle), "alice")
    with harness.root() as root:
        assert len(root.owners["alice"].packages) == 0 and len(root.owners["alice"].sources) == 0


def test_a_manifest_that_is_not_json_is_refused(offline, tmp_path):
    import hashlib

    (tmp_path / "manifest.json").write_bytes(b"{nope")
    (tmp_path / "manifest.json.sha256").write_text(hashlib.sha256(b"{nope").hexdigest() + "  manifest.json\n")
    with pytest.raises(SourceError, match="not JSON"):
        import_bundle(offline[0].registry, str(tmp_path), "alice")
