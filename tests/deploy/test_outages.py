"""Database outages under upload load, through nginx and two app processes: the ZEO
server killed (``kill -9``) and restarted, PostgreSQL stopped and started.  Every
request gets an answer (success, or 503 with Retry-After while the database is
away: never a 500 or a dropped connection), nothing acknowledged is lost, and the
same processes serve again once the database is back.

Both refuse during the outage: a ZEO client waits ``anarepo.zeo_wait_timeout``
(2 s) for its server, then answers 503 (not retried); PostgreSQL refusals are
immediate 503s."""
from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest
import requests

from anarepo.package_types.pypi import builders
from tests.functional.pypi.conftest import basic, upload_fields

from .conftest import need_postgres
from .services import Nginx, PostgresCluster, ZEOServer
from .site import DeploySite

pytestmark = [pytest.mark.deploy, pytest.mark.slow]

WRITERS = 2
#: seconds a refusal may take during an outage (ZEO: two 2-s waits at most), with room
OUTAGE_ANSWER_BOUND = 10


class Load:
    """Threads uploading wheels and reading the index through nginx until stopped."""

    def __init__(self, site):
        self.site = site
        self.stop = threading.Event()
        self.acknowledged: list[tuple[str, bytes]] = []
        self.answers: list[tuple[str, int, str]] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.write, args=(n,), daemon=True) for n in range(WRITERS)]
        self.threads.append(threading.Thread(target=self.read, daemon=True))

    def record(self, kind, response=None, error=None):
        with self.lock:
            if error is not None:
                self.answers.append((kind, 0, repr(error), 0.0))
            else:
                self.answers.append((kind, response.status_code, response.headers.get("Retry-After", ""),
                                     response.elapsed.total_seconds()))

    def write(self, n):
        i = 0
        while not self.stop.is_set():
            i += 1
            fn, data = builders.wheel(f"load{n}", f"2.{i}")
            try:
                response = requests.post(f"{self.site.url}/pypi/alice/", data=upload_fields(fn, data, f"load{n}", f"2.{i}"),
                                         files={"content": (fn, data)}, headers=basic(self.site.token), timeout=120)
            except requests.RequestException as exc:
                self.record("upload", error=exc)
                continue
            self.record("upload", response)
            if response.status_code == 200:
                with self.lock:
                    self.acknowledged.append((fn, data))
            else:
                time.sleep(0.2)

    def read(self):
        while not self.stop.is_set():
            try:
                self.record("read", requests.get(f"{self.site.url}/pypi/alice/simple/load0/", timeout=120))
            except requests.RequestException as exc:
                self.record("read", error=exc)
            time.sleep(0.05)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(180)


def check(site, load):
    bad = [a for a in load.answers if a[1] not in (200, 503) or (a[1] == 503 and not a[2])]
    assert bad == [], bad[:10]
    # answered 503 while the database was away, promptly, and served again after the restart
    refused = [n for n, a in enumerate(load.answers) if a[1] == 503]
    assert refused, "the outage was not noticed"
    assert max(a[3] for a in load.answers if a[1] == 503) < OUTAGE_ANSWER_BOUND
    assert any(a[1] == 200 and a[0] == "upload" for a in load.answers[refused[-1]:]), "no upload after the outage"
    # nothing acknowledged is lost: every file is listed and downloads with its bytes
    for fn, data in load.acknowledged:
        project = fn.split("-")[0]
        page = requests.get(f"{site.url}/pypi/alice/simple/{project}/", timeout=30)
        assert page.status_code == 200 and fn in page.text, fn
        href = page.text.split(f'>{fn}<')[0].rsplit('href="', 1)[1].split("#")[0]
        body = requests.get(requests.compat.urljoin(page.url, href), timeout=30).content
        assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest(), fn
    # the same processes serve new uploads
    assert all(app.proc.poll() is None for app in site.apps)
    fn, data = builders.wheel("after", "1.0")
    response = requests.post(f"{site.url}/pypi/alice/", data=upload_fields(fn, data, "after", "1.0"),
                             files={"content": (fn, data)}, headers=basic(site.token), timeout=120)
    assert response.status_code == 200
    assert site.anarepo("reindex", "--check", "-q").startswith("reindexed")


def make_site(tmp_path_factory, backend, cluster=None):
    if not Nginx.available():
        if os.environ.get("CI"):
            pytest.fail("nginx is needed in CI")
        pytest.skip("nginx is not installed")
    site = DeploySite(tmp_path_factory.mktemp(f"outage-{backend}"), backend, cluster)
    site.start()
    site.anarepo("user", "add", "alice", "--email", "alice@example.com", "--password-stdin",
                 input="correct-horse-battery\n")
    site.token = site.anarepo("token", "create", "alice", "--name", "ci")
    fn, data = builders.wheel("load0", "1.0")  # the project the reader reads exists from the start
    requests.post(f"{site.url}/pypi/alice/", data=upload_fields(fn, data, "load0", "1.0"),
                  files={"content": (fn, data)}, headers=basic(site.token), timeout=60).raise_for_status()
    return site


def test_zeo_server_killed_and_restarted_under_upload_load(tmp_path_factory):
    site = make_site(tmp_path_factory, "zeo")
    try:
        with Load(site) as load:
            time.sleep(3)
            site.zeo.kill()
            time.sleep(4)
            site.zeo = ZEOServer(site.zeo.config_path, site.zeo.port, site.zeo.log_path).start()
            time.sleep(6)
        check(site, load)
    finally:
        site.stop()


def test_postgresql_stopped_and_started_under_upload_load(tmp_path_factory):
    need_postgres()
    cluster = PostgresCluster().init().start()
    site = make_site(tmp_path_factory, "relstorage", cluster)
    try:
        with Load(site) as load:
            time.sleep(3)
            cluster.stop("fast")
            time.sleep(4)
            cluster.start()
            time.sleep(6)
        check(site, load)
    finally:
        site.stop()
        cluster.destroy()
