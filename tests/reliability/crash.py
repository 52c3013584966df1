"""Killing a real server mid-upload, and what must hold afterwards.

Shared by ``test_crash.py`` (a few rounds) and ``bench/reliability.py --crash-rounds``.
The database lives in ``var/`` beside the .ini (development.ini's layout).
"""
from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import requests

from anarepo import main
from anarepo.package_types.pypi import builders
from anarepo.testing import AppHarness, make_settings
from tests.reliability import load
from tests.reliability.servers import Server

UPLOADERS = 6


def harness_for(ini: Path) -> AppHarness:
    """The application on the database of ``ini`` (``var/`` beside it)."""
    return AppHarness(main({}, **make_settings(ini.parent)))


def big_wheel(n: int) -> load.Job:
    filename, data = builders.wheel("crashy", f"1.{n}", code="D = %r\n" % os.urandom(300_000).hex())
    return load.Job("wheel", "crashy", f"1.{n}", filename, data)


def _upload_until_killed(url, token, counter, outcomes, stop):
    client = load.Uploader(url, "alice", token)
    while not stop.is_set():
        with counter["lock"]:
            n = counter["n"] = counter["n"] + 1
        job = big_wheel(n) if n % 2 else load.conda_job("crashy", f"2.{n}")
        try:
            outcomes.append(client.upload(job))
        except requests.RequestException:
            return


def crash_rounds(ini: Path, token: str, rounds: int, uploaders: int = UPLOADERS) -> list[load.Outcome]:
    """Start the server, upload from several threads, SIGKILL it after 1-2.5 s; ``rounds`` times."""
    outcomes, counter = [], {"n": 0, "lock": threading.Lock()}
    for _ in range(rounds):
        server = Server(ini)
        stop = threading.Event()
        threads = [threading.Thread(target=_upload_until_killed, args=(server.url, token, counter, outcomes, stop))
                   for _ in range(uploaders)]
        for thread in threads:
            thread.start()
        time.sleep(random.uniform(1.0, 2.5))
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return outcomes


def debris(ini: Path) -> dict[str, list[str]]:
    """Files that should not be there: temporary ones, and blob files no record or live stage references."""
    var = ini.parent / "var"
    app = harness_for(ini)
    try:
        with app.root() as root:
            referenced = {d.blob.committed() for owner in root.owners.values() for p in owner.packages.values()
                          for d in p.distributions()}
            area = getattr(root, "staging", None)
            if area is not None:
                referenced |= {s.blob.committed() for s in area.stages.values() if s.blob is not None}
    finally:
        app.close()
    return {
        "temporary": sorted(os.listdir(var / "blobs" / "tmp")) + sorted(str(p) for p in (var / "blobs").rglob("*.tmp")),
        "orphans": sorted({str(p) for p in (var / "blobs").rglob("*.blob")} - referenced),
    }
