"""Many uploaders into one package at once all succeed, even past the inspection pool's
places: an upload waits for a place (``anarepo.inspect.queue_wait``) instead of being
refused at once (before: beyond 2 inspected + 2 queued, 503 immediately).

The pool is held full by real jobs in it while twelve uploaders start against a real
waitress server, then released: every upload is acknowledged and downloads intact."""
from __future__ import annotations

import threading
import time

import pytest

from anarepo.testing import LiveServer, hold_inspection_pool
from tests.reliability import load

UPLOADERS = 12


@pytest.fixture
def server(app):
    app.make_user("alice")
    token = app.make_token("alice", "ci")
    live = LiveServer(app.wsgi_app, threads=UPLOADERS + 2).start()
    yield app, live, token
    live.stop()


def test_twelve_uploads_into_one_package_past_a_full_pool_all_succeed(server):
    app, live, token = server
    pool = app.registry.anarepo_inspection
    done = hold_inspection_pool(pool)
    timer = threading.Timer(1.5, done)  # the pool frees up while the uploads wait
    timer.start()
    work = [[load.wheel_job("hot", f"1.{u}") if u % 2 else load.conda_job("hot", f"1.{u}")] for u in range(UPLOADERS)]
    try:
        outcomes = load.run(live.url, "alice", token, work)
    finally:
        timer.join()
    assert [(o.status, o.body) for o in outcomes if o.status != 200] == []
    tally = load.verify(live.url, "alice", token, outcomes)
    assert tally.acknowledged == tally.downloadable == UPLOADERS and tally.lost == []


def test_a_wait_beyond_the_bound_is_a_503_with_retry_after_and_stores_nothing(server):
    import requests

    from anarepo.package_types.pypi import builders

    app, live, token = server
    pool = app.registry.anarepo_inspection
    pool.queue_wait = 1.0
    done = hold_inspection_pool(pool)
    try:
        fn, data = builders.wheel("late", "1.0")
        started = time.monotonic()
        answer = requests.post(f"{live.url}/pypi/alice/", auth=("__token__", token),
                               data={":action": "file_upload", "name": "late", "version": "1.0",
                                     "protocol_version": "1", "sha256_digest": load.wheel_job("late", "1.0").sha256},
                               files={"content": (fn, data)}, timeout=30)
        waited = time.monotonic() - started
    finally:
        done()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5" and "busy" in answer.text, answer.text
    assert 1.0 <= waited < 10
    assert requests.get(f"{live.url}/api/package/alice/late", headers={"Authorization": f"token {token}"},
                        timeout=30).status_code == 404
