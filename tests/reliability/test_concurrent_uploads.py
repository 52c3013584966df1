"""Concurrent uploads into one package on a real waitress server: nothing acknowledged is lost.

Threads upload wheels (PyPI upload) and conda packages (the API's stage/commit)
into one hot package at once; then every acknowledged file is downloaded and
compared with what was sent.  Before native blob storage, aborted (conflicting)
transactions deleted blob files of others that committed; before conflict-free
publishing, about half of these uploads answered 500.
"""
from __future__ import annotations

import pytest

from anarepo.testing import LiveServer
from tests.reliability import load

UPLOADERS = 12
FILES_EACH = 20


@pytest.fixture
def server(app):
    app.make_user("alice")
    token = app.make_token("alice", "ci")
    live = LiveServer(app.wsgi_app, threads=UPLOADERS).start()
    yield live, token
    live.stop()


def hot_work(package="hot"):
    work = []
    for u in range(UPLOADERS):
        jobs = []
        for i in range(FILES_EACH):
            version = f"1.{u}.{i}"
            jobs.append(load.wheel_job(package, version) if (u + i) % 2 else load.conda_job(package, version))
        work.append(jobs)
    return work


def test_every_acknowledged_upload_into_one_package_downloads_intact(server):
    live, token = server
    outcomes = load.run(live.url, "alice", token, hot_work())
    tally = load.verify(live.url, "alice", token, outcomes)
    assert tally.acknowledged > 0
    assert tally.lost == []
    # and contention refuses nothing: merges, queued writers and retries absorb it
    assert [o for o in outcomes if o.status != 200] == []
    assert tally.listed_missing == []
    assert tally.downloadable == tally.acknowledged
