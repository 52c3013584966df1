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


def test_the_same_upload_id_committed_twice_at_once_is_published_once(server):
    """Both commits answer: the first with the file it published, the twin with
    the same file (idempotent) or a clear 4xx; never a 5xx, never two files."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    import requests

    live, token = server
    job = load.conda_job("twin", "1.0")
    auth = {"Authorization": f"token {token}"}
    path = f"alice/twin/1.0/{job.filename}"
    staged = requests.post(f"{live.url}/api/stage/{path}", headers=auth,
                           json={"distribution_type": "conda", "sha256": job.sha256}).json()
    posted = requests.post(staged["post_url"], data=staged["form_data"], files={"file": ("f", job.data)})
    assert posted.status_code == 201
    for _ in range(2):  # a second round: the id is spent, both commits are refused cleanly
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: requests.post(f"{live.url}/api/commit/{path}", headers=auth,
                                                            json={"dist_id": staged["dist_id"]}), range(2)))
        statuses = sorted(a.status_code for a in answers)
        assert all(s in (200, 404, 409) for s in statuses), [a.text for a in answers]
        for answer in answers:
            if answer.status_code == 200:
                assert answer.json()["sha256"] == hashlib.sha256(job.data).hexdigest()
            else:
                assert answer.json()["error"]
    files = requests.get(f"{live.url}/api/package/alice/twin", headers=auth).json()["files"]
    assert [f["basename"] for f in files] == [job.filename]
