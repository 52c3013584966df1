"""A slow upstream holds few server threads.  Any user may define a source whose
upstream they run, and anonymous requests make the server talk to it: a download
of a proxied file, or the refresh of a proxied index."""
from __future__ import annotations

import threading
import time

import pytest
import webtest

from anarepo.testing import make_settings
from tests.upstreams import drop_shards

from .conftest import add


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **{"anarepo.sources.max_fetches": "1", "anarepo.sources.timeout": "1"})


def in_thread(app, path, out):
    client = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    thread = threading.Thread(target=lambda: out.append(client.get(path, expect_errors=True)))
    thread.start()
    return thread


def wait_for(upstream, path):
    for _ in range(200):
        if any(p == path for p, _ in upstream.misbehave.requests):
            return
        time.sleep(0.01)
    raise AssertionError(f"the upstream never saw {path}")


def test_downloads_from_upstreams_at_once_are_capped(mirror_app, testapp, conda_upstream):
    add(mirror_app, url=conda_upstream.url, mode="proxy")
    testapp.get("/conda/alice/noarch/repodata.json")
    conda_upstream.misbehave.rules["/noarch/tool-1.0-0.tar.bz2"] = {"drip": 2}
    out = []
    slow = in_thread(mirror_app, "/conda/alice/noarch/tool-1.0-0.tar.bz2", out)
    wait_for(conda_upstream, "/noarch/tool-1.0-0.tar.bz2")
    busy = testapp.get("/conda/alice/noarch/tool-2.0-0.tar.bz2", status=503)
    assert busy.headers["Retry-After"] and "/noarch/tool-2.0-0.tar.bz2" not in dict(conda_upstream.misbehave.requests)
    slow.join()
    assert out[0].status_int == 200
    testapp.get("/conda/alice/noarch/tool-2.0-0.tar.bz2", status=200)  # a free slot again


def test_an_index_request_does_not_wait_long_for_anothers_slow_refresh(mirror_app, testapp, conda_upstream):
    drop_shards(conda_upstream.directory)  # the slow document is repodata.json
    add(mirror_app, url=conda_upstream.url, mode="proxy", ttl=0)
    listed = testapp.get("/conda/alice/noarch/repodata.json").json["packages"]
    conda_upstream.misbehave.rules["/noarch/repodata.json"] = {"drip": 4}
    out = []
    slow = in_thread(mirror_app, "/conda/alice/noarch/repodata.json", out)
    wait_for(conda_upstream, "/noarch/repodata.json")
    started = time.monotonic()
    response = testapp.get("/conda/alice/noarch/repodata.json")
    assert time.monotonic() - started < 3  # about the one-second timeout, not the 4 s refresh (or two)
    assert response.headers["X-Anarepo-Upstream"] == "stale" and response.json["packages"] == listed
    slow.join()
    assert out[0].headers["X-Anarepo-Upstream"] == "fresh"


def test_syncs_inside_requests_are_capped(mirror_app, testapp, conda_upstream):
    """``POST .../sync`` runs a whole sync in the request: one at a time per process."""
    drop_shards(conda_upstream.directory)  # the slow document is repodata.json
    token = mirror_app.make_token("alice", "all")
    headers = {"Authorization": f"token {token}"}
    add(mirror_app, url=conda_upstream.url)
    add(mirror_app, name="other", url=conda_upstream.url, label="other")
    conda_upstream.misbehave.rules["/noarch/repodata.json"] = {"drip": 2}
    out = []
    client = webtest.TestApp(mirror_app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    slow = threading.Thread(target=lambda: out.append(client.post("/api/sources/alice/up/sync", headers=headers)))
    slow.start()
    wait_for(conda_upstream, "/noarch/repodata.json")
    busy = testapp.post("/api/sources/alice/other/sync", headers=headers, status=503)
    assert busy.headers["Retry-After"] and "error" in busy.json
    slow.join()
    assert out[0].json["added"] == 4
    with mirror_app.root() as root:
        assert len(root.owners["alice"].sources["other"].history) == 0  # the refused one did nothing
