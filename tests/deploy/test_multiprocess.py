"""The deployment docs/operations.md describes, end to end: a database server (ZEO, or
RelStorage on a throwaway PostgreSQL), ``anarepo gen-config``, ``anarepo init`` once, two
``anarepo serve --port`` processes and nginx round robin in front with X-Accel-Redirect.

Real clients go through nginx: 20 ``anaconda upload`` flows (three requests each, landing
on alternating processes), each followed at once by a py-rattler solve and install, and 20
twine uploads, each followed at once by ``pip install``; anonymous index documents are read
after every upload.  0 failures, 0 stale reads.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from anarepo.package_types.pypi import builders
from anarepo.testing import after_this_second
from tests.conda_builders import build_package

from .conftest import need_postgres
from .services import Nginx, PostgresCluster
from .site import DeploySite

pytestmark = [pytest.mark.deploy, pytest.mark.slow]

ROUNDS = 20
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", params=["zeo", "relstorage"])
def site(request, tmp_path_factory):
    if not Nginx.available():
        if os.environ.get("CI"):
            pytest.fail("nginx (scripts/system-packages.txt) is needed in CI")
        pytest.skip("nginx is not installed")
    cluster = None
    if request.param == "relstorage":
        need_postgres()
        cluster = PostgresCluster().init().start()
    site = DeploySite(tmp_path_factory.mktemp(f"site-{request.param}"), request.param, cluster)
    try:
        site.start()
        site.anarepo("user", "add", "alice", "--email", "alice@example.com", "--password-stdin",
                     input="correct-horse-battery\n")
        site.token = site.anarepo("token", "create", "alice", "--name", "ci")
        yield site
    finally:
        site.stop()
        if cluster is not None:
            cluster.destroy()


def stale_reads(site, conda_fn=None, wheel=None) -> list[str]:
    """Anonymous reads through nginx right after an upload (round robin: both processes)."""
    stale = []
    for _ in range(len(site.ports) * 2):
        if conda_fn:
            if conda_fn not in requests.get(f"{site.url}/conda/alice/noarch/repodata.json", timeout=30).json()["packages"]:
                stale.append(conda_fn)
        if wheel:
            if wheel not in requests.get(f"{site.url}/pypi/alice/simple/demo/", timeout=30).text:
                stale.append(wheel)
    return stale


def test_anaconda_uploads_then_rattler_installs(site, tmp_path):
    import rattler

    from tests.clients.anaconda_cli import AnacondaCli

    cli = AnacondaCli(tmp_path / "home", site.url + "/api")
    failures, stale = [], []
    for i in range(ROUNDS):
        fn, data = build_package("tool", f"1.{i}")
        path = tmp_path / fn
        path.write_bytes(data)
        result = cli("-t", site.token, "upload", path, ok=None)
        if result.returncode != 0:
            failures.append(f"upload {fn}: {result.output[-500:]}")
            continue
        stale += stale_reads(site, conda_fn=fn)
        config = rattler.SourceConfig(sharded_enabled=bool(i % 2), bz2_enabled=False, cache_action="no-cache")
        gateway = rattler.Gateway(cache_dir=str(tmp_path / f"cache{i}"), default_config=config)
        try:
            records = asyncio.run(rattler.solve([f"{site.url}/conda/alice"], [f"tool ==1.{i}"], gateway=gateway,
                                                platforms=["linux-64", "noarch"]))
            asyncio.run(rattler.install(records, target_prefix=str(tmp_path / f"env{i}"),
                                        cache_dir=str(tmp_path / "pkgs"), show_progress=False))
            if not (tmp_path / f"env{i}/share/tool/tool-1.{i}.txt").exists():
                failures.append(f"install {fn}: file missing")
        except Exception as exc:  # noqa: BLE001 - counted, reported below
            failures.append(f"install {fn}: {exc}")
    assert failures == [], "\n".join(failures) + site.logs()
    assert stale == []


def test_twine_uploads_then_pip_installs(site, tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_NO_CACHE_DIR": "1", "PIP_NO_INPUT": "1"}
    failures, stale = [], []
    for i in range(ROUNDS):
        fn, data = builders.wheel("demo", f"2.{i}", module="demo_mod")
        path = tmp_path / fn
        path.write_bytes(data)
        up = subprocess.run([BIN / "twine", "upload", "--repository-url", f"{site.url}/pypi/alice/", "-u",
                             "__token__", "-p", site.token, "--non-interactive", str(path)],
                            capture_output=True, text=True, env=env, timeout=120)
        if up.returncode != 0:
            failures.append(f"twine {fn}: {up.stdout[-300:]}{up.stderr[-300:]}")
            continue
        stale += stale_reads(site, wheel=fn)
        target = tmp_path / f"t{i}"
        pip = subprocess.run([BIN / "python", "-m", "pip", "install", "--no-deps", "--target", str(target),
                              "--index-url", f"{site.url}/pypi/alice/simple/", f"demo=={2}.{i}"],
                             capture_output=True, text=True, env=env, timeout=120)
        if pip.returncode != 0:
            failures.append(f"pip {fn}: {pip.stdout[-300:]}{pip.stderr[-300:]}")
    assert failures == [], "\n".join(failures) + site.logs()
    assert stale == []


def test_files_come_from_nginx_with_the_apps_headers_and_ranges(site, tmp_path):
    fn, data = build_package("ranged", "1.0", payload={"share/big.bin": os.urandom(200_000)})
    path = tmp_path / fn
    path.write_bytes(data)
    from tests.clients.anaconda_cli import AnacondaCli

    AnacondaCli(tmp_path / "home", site.url + "/api")("-t", site.token, "upload", path)
    url = f"{site.url}/conda/alice/noarch/{fn}"
    whole = requests.get(url, timeout=30)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["ETag"].strip('"') == hashlib.sha256(data).hexdigest()
    assert "X-Accel-Redirect" not in whole.headers
    part = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=30)
    assert part.status_code == 206 and part.content == data[10:20]
    assert requests.get(url, headers={"If-None-Match": whole.headers["ETag"]}, timeout=30).status_code == 304
    # nginx sent the bytes: the app's log has no body, nginx's access log the full size
    with open(os.path.join(site.dir, "nginx", "access.log")) as f:
        assert any(f"/conda/alice/noarch/{fn}" in line and f" 200 {len(data)} " in line for line in f)
    # the internal location is not reachable from outside
    assert requests.get(f"{site.url}/_anarepo_blobs/", timeout=30).status_code == 404


def test_public_documents_come_from_nginx_alone_and_never_outlive_a_write(site, tmp_path):
    """Published documents (anarepo/deploy/published.py): after one answer from the app,
    nginx sends the document from a file without asking any process; each write ends
    that at once on every process; credentials still go to the app."""
    import time

    from tests.functional.pypi.conftest import basic, upload_fields

    page = f"{site.url}/pypi/alice/simple/fresh/"
    for i in range(3):
        fn, data = builders.wheel("fresh", f"3.{i}")
        requests.post(f"{site.url}/pypi/alice/", data=upload_fields(fn, data, "fresh", f"3.{i}"),
                      files={"content": (fn, data)}, headers=basic(site.token), timeout=60).raise_for_status()
        answers = [requests.get(page, timeout=30)]  # right after the upload: from the app
        # documents made in the second of their last change have no date yet: never published
        after_this_second()
        answers += [requests.get(page, timeout=30) for _ in range(3)]
        assert all(fn in a.text for a in answers), "a read right after the upload missed it"
        assert answers[-1].headers.get("X-Anarepo-Document") == "published"
        assert "Content-Security-Policy" in answers[-1].headers
        assert answers[-1].headers["Content-Type"] == "text/html; charset=utf-8"
    with_token = requests.get(page, headers={"Authorization": f"token {site.token}"}, timeout=30)
    assert fn in with_token.text and "X-Anarepo-Document" not in with_token.headers
    pip = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
    json_answers = [requests.get(page, headers={"Accept": pip}, timeout=30) for _ in range(3)]
    assert json_answers[-1].headers["Content-Type"] == "application/vnd.pypi.simple.v1+json"
    assert json_answers[-1].json()["files"][-1]["filename"] == fn
    # large documents get a gzip twin that nginx sends to clients accepting gzip
    repodata = f"{site.url}/conda/alice/noarch/repodata.json"
    plain = requests.get(repodata, headers={"Accept-Encoding": "identity"}, timeout=30)
    deadline = time.monotonic() + 30
    while True:
        zipped = requests.get(repodata, headers={"Accept-Encoding": "gzip"}, timeout=30)
        if zipped.headers.get("Content-Encoding") == "gzip" and zipped.headers.get("X-Anarepo-Document"):
            break
        assert time.monotonic() < deadline, zipped.headers
        time.sleep(0.2)
    assert zipped.content == requests.get(repodata, headers={"Accept-Encoding": "identity"}, timeout=30).content
    assert plain.json() == zipped.json()
