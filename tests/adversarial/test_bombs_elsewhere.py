"""The work budget and the bounded inspection pool on the other ways bytes get inspected:
the mirror proxy's first fetch of a file and the client-side ``anarepo upload``.

A bomb that the upstream lists with its true size and sha256 is refused (502,
nothing stored) under the configured budget; a full pool answers 503 and stores
nothing; the client inspects in its own pool under the same budget.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import pytest

from anarepo.testing import hold_inspection_pool, make_settings
from tests.upstreams import StaticUpstream

from . import bombs
from .test_bombs import SMALL_BUDGET

MiB = bombs.MiB


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **SMALL_BUDGET)


def _channel_with(directory: Path, filename: str, data: bytes, name: str) -> StaticUpstream:
    """An upstream conda channel listing one file with its true size and sha256."""
    noarch = directory / "noarch"
    noarch.mkdir(parents=True)
    (noarch / filename).write_bytes(data)
    record = {"name": name, "version": "1.0", "build": "0", "build_number": 0, "depends": [],
              "subdir": "noarch", "sha256": hashlib.sha256(data).hexdigest(),
              "md5": hashlib.md5(data).hexdigest(), "size": len(data)}
    key = "packages.conda" if filename.endswith(".conda") else "packages"
    repodata = {"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {}}
    repodata[key][filename] = record
    (noarch / "repodata.json").write_text(json.dumps(repodata))
    return StaticUpstream(directory)


@pytest.fixture
def proxy(app, tmp_path):
    """alice's channel proxies an upstream holding a bomb (24 MiB of zeros before info/:
    over this app's budget, 8 MiB + 4 × size, though under the built-in default, so
    the configured budget is the one applied) and an honest package."""
    from anarepo.sources.service import add_source
    from tests.conda_builders import build_package

    filename, data, _ = bombs.conda_zeros_before_info(24 * MiB)
    server = _channel_with(tmp_path / "upstream", filename, data, "bomb")
    honest_fn, honest = build_package("honest", "1.0")
    (tmp_path / "upstream" / "noarch" / honest_fn).write_bytes(honest)
    repodata = json.loads((tmp_path / "upstream" / "noarch" / "repodata.json").read_text())
    repodata["packages"][honest_fn] = {
        "name": "honest", "version": "1.0", "build": "0", "build_number": 0, "depends": [], "subdir": "noarch",
        "sha256": hashlib.sha256(honest).hexdigest(), "md5": hashlib.md5(honest).hexdigest(), "size": len(honest)}
    (tmp_path / "upstream" / "noarch" / "repodata.json").write_text(json.dumps(repodata))
    app.make_user("alice")
    with app.root() as root:
        add_source(root.owners["alice"], "up", "conda", server.url, mode="proxy")
    yield {"bomb": filename, "honest": honest_fn, "honest_bytes": honest}
    server.stop()


def _stored(app, package: str) -> list:
    """The files of ``package`` whose bytes are stored (not only proxied records)."""
    with app.root() as root:
        pkg = root.owners["alice"].packages.get(package)
        return [d.basename for d in (pkg.distributions() if pkg is not None else ()) if d.upstream is None]


def test_a_bomb_through_the_proxy_is_refused_and_stores_nothing(app, testapp, proxy):
    testapp.get("/conda/alice/noarch/repodata.json")
    started = time.process_time()
    r = testapp.get(f"/conda/alice/noarch/{proxy['bomb']}", status=502)
    assert "expands beyond" in r.text and "refused" in r.text
    assert time.process_time() - started < 30  # a guard against hanging, not a figure (bench/bombs.py)
    assert _stored(app, "bomb") == []
    # the channel still serves the record as proxied, and other files are fetched normally
    assert proxy["bomb"] in testapp.get("/conda/alice/noarch/repodata.json").json["packages"]
    assert testapp.get(f"/conda/alice/noarch/{proxy['honest']}").body == proxy["honest_bytes"]


def test_a_proxy_fetch_waits_for_no_inspection_slot(app, testapp, proxy):
    """With the pool full beyond its bounded wait, the first download of a proxied file
    answers 503, stores nothing, and succeeds once the pool has room."""
    testapp.get("/conda/alice/noarch/repodata.json")
    app.registry.anarepo_inspection.queue_wait = 0.5  # a full pool answers 503 after this wait
    done = hold_inspection_pool(app.registry.anarepo_inspection)
    try:
        r = testapp.get(f"/conda/alice/noarch/{proxy['honest']}", status=503)
        assert r.headers["Retry-After"] == "5" and "busy" in r.text
        assert _stored(app, "honest") == []
    finally:
        done()
    assert testapp.get(f"/conda/alice/noarch/{proxy['honest']}").body == proxy["honest_bytes"]
    assert _stored(app, "honest") == [f"noarch/{proxy['honest']}"]


def _uploader(tmp_path):
    from anarepo.client.commands import Uploader

    args = argparse.Namespace(package_type="conda", package=None, version=None)
    return Uploader(args, api=None, owner="alice")


def test_the_client_inspects_a_bomb_under_the_budget(tmp_path):
    """``anarepo upload`` reads the file before sending anything: a bomb stops there."""
    from anarepo.plugins import BudgetExceeded

    filename, data, _ = bombs.conda_zeros_before_info(256 * MiB)
    path = tmp_path / filename
    path.write_bytes(data)
    uploader = _uploader(tmp_path)
    with pytest.raises(BudgetExceeded, match="expands beyond"):
        uploader.describe(path, f"noarch/{filename}")


def test_the_client_inspects_in_its_bounded_pool(tmp_path):
    """The client's standalone registry has the server's pool; the inspection runs there."""
    from pyramid.httpexceptions import HTTPServiceUnavailable

    from anarepo.inspection import InspectionPool
    from tests.conda_builders import build_package

    filename, data = build_package("fine", "1.0")
    path = tmp_path / filename
    path.write_bytes(data)
    uploader = _uploader(tmp_path)
    uploader.registry.anarepo_inspection = pool = InspectionPool(workers=1, queue=0, queue_wait=0.2)
    done = hold_inspection_pool(pool)
    try:
        with pytest.raises(HTTPServiceUnavailable):
            uploader.describe(path, f"noarch/{filename}")
    finally:
        done()
    ptype, info = uploader.describe(path, f"noarch/{filename}")
    assert (ptype.name, info.name, info.version) == ("conda", "fine", "1.0")
