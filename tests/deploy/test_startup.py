"""Several processes starting at once on one database (ZEO): initialization and a
pending evolve step run once, every process starts; a blob directory that is not
the server's is refused with a clear message."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from anarepo.deploy.config import Site, generate

from .conftest import zeo_backend

pytestmark = pytest.mark.deploy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANAREPO = os.path.join(os.path.dirname(sys.executable), "anarepo")


def env():
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def write_ini(backend, tmp_path, name, **settings):
    site = Site(out=str(tmp_path / name), var=backend.site.var, backend="zeo",
                zeo_address=backend.site.zeo_address, x_accel=False,
                extra_settings={"anarepo.argon2.time_cost": "1", "anarepo.argon2.memory_cost": "64", **settings})
    generate(site, "ini")
    with open(site.path("anarepo.ini")) as f:
        text = f.read().replace(site.path("zodb.conf"), backend.site.path("zodb.conf"))
    with open(site.path("anarepo.ini"), "w") as f:
        f.write(text)
    return site.path("anarepo.ini")


def start_all(ini, count=3, *args):
    procs = [subprocess.Popen([ANAREPO, "-c", ini, *(args or ("init",))], env=env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(count)]
    return [(p.wait(120), *p.communicate()) for p in procs]


def failures(results) -> str:
    return "\n".join(err[-3000:] for rc, _, err in results if rc != 0)


def probe_runs(backend):
    import ZODB.config

    db = ZODB.config.databaseFromURL(backend.site.path("zodb.conf"))
    try:
        with db.transaction() as conn:
            root = conn.root()["anarepo"]
            return getattr(root, "probe_runs", 0), "tests.deploy.evolve_probe.count_run" in root.finished_evolve_steps
    finally:
        db.close()


@pytest.fixture
def zeo(tmp_path):
    backend = zeo_backend(tmp_path)
    yield backend
    backend.server.stop()


def test_processes_starting_together_initialize_and_evolve_once(zeo, tmp_path):
    plain = write_ini(zeo, tmp_path, "plain")
    results = start_all(plain)  # an empty database, three processes at once
    assert [rc for rc, _, _ in results] == [0, 0, 0], failures(results)
    assert all("database ready" in out for _, out, _ in results)

    upgraded = write_ini(zeo, tmp_path, "upgraded", **{"anarepo.includes": "tests.deploy.evolve_probe"})
    results = start_all(upgraded)  # the new code's evolve step is pending for all three
    assert [rc for rc, _, _ in results] == [0, 0, 0], failures(results)
    assert probe_runs(zeo) == (1, True)


def test_a_blob_directory_that_is_not_the_servers_is_refused(zeo, tmp_path):
    assert start_all(write_ini(zeo, tmp_path, "plain"), 1)[0][0] == 0
    other = tmp_path / "elsewhere"
    other.mkdir()
    wrong = Site(out=str(tmp_path / "wrong"), var=str(other), backend="zeo", zeo_address=zeo.site.zeo_address)
    generate(wrong, "zodb")
    ini = write_ini(zeo, tmp_path, "wrong-ini")
    with open(ini) as f:
        text = f.read().replace(zeo.site.path("zodb.conf"), wrong.path("zodb.conf"))
    with open(ini, "w") as f:
        f.write(text)
    rc, out, err = start_all(ini, 1)[0]
    assert rc == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("anarepo: error: the blob directory") and str(other) in last
