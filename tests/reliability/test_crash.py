"""kill -9 in the middle of uploads, restart, ``anarepo gc``: nothing acknowledged
is lost, nothing half-done remains, every listed file downloads intact."""
from __future__ import annotations

import os
import random
import threading
import time

import pytest
import requests

from anarepo.package_types.pypi import builders
from tests.functional.test_cli import ini, run  # noqa: F401 - the fixture
from tests.reliability import load
from tests.reliability.servers import Server
from tests.reliability.test_gc import harness_for

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ini")]

ROUNDS = 3
UPLOADERS = 6


def big_wheel(n):
    return load.Job("wheel", "crashy", f"1.{n}", *builders.wheel("crashy", f"1.{n}", code="D = %r\n" % os.urandom(
        300_000).hex()))


def upload_until_killed(server, token, counter, outcomes, stop):
    client = load.Uploader(server.url, "alice", token)
    while not stop.is_set():
        with counter["lock"]:
            n = counter["n"] = counter["n"] + 1
        job = big_wheel(n) if n % 2 else load.conda_job("crashy", f"2.{n}")
        try:
            outcomes.append(client.upload(job))
        except requests.RequestException:
            return


def test_sigkill_mid_upload_then_gc_leaves_a_consistent_store(ini):
    app = harness_for(ini)
    app.make_user("alice")
    token = app.make_token("alice", "ci")
    app.close()
    outcomes, counter = [], {"n": 0, "lock": threading.Lock()}
    for _ in range(ROUNDS):
        server = Server(ini)
        stop = threading.Event()
        threads = [threading.Thread(target=upload_until_killed, args=(server, token, counter, outcomes, stop))
                   for _ in range(UPLOADERS)]
        for thread in threads:
            thread.start()
        time.sleep(random.uniform(1.0, 2.5))
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert any(o.status == 200 for o in outcomes)

    result = run("-c", str(ini), "gc")
    assert result.returncode == 0, result.stderr
    assert "partial upload/temporary file(s)" in result.stdout
    check = run("-c", str(ini), "reindex", "--check", "-q")
    assert check.returncode == 0, check.stdout + check.stderr

    var = ini.parent / "var"
    assert os.listdir(var / "blobs" / "tmp") == []
    assert not list((var / "blobs").rglob("*.tmp"))
    app = harness_for(ini)
    try:
        with app.root() as root:
            referenced = {d.blob.committed() for p in root.owners["alice"].packages.values()
                          for d in p.distributions()}
            referenced |= {s.blob.committed() for s in root.staging.stages.values() if s.blob is not None}
    finally:
        app.close()
    assert {str(p) for p in (var / "blobs").rglob("*.blob")} == referenced  # no orphans

    server = Server(ini)
    try:
        tally = load.verify(server.url, "alice", token, outcomes)
    finally:
        server.kill()
    assert tally.lost == [] and tally.listed_missing == []
