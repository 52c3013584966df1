"""Replayed public index answers (anarepo/http/replay.py) against the real app and database.

Each test checks both that a replay happened (the middleware's hit counter) and
that what a client receives is what the application itself would answer.
"""
from __future__ import annotations

import pytest

from anarepo.services.packages import set_access
from anarepo.package_types.pypi import builders
from tests.conda_builders import build_package, publish_conda, user_with_conda_package

REPODATA = "/conda/alice/noarch/repodata.json"
JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def replay(testapp):
    return testapp.app.app.app  # TokenPrefixMiddleware → LastResort → ReplayMiddleware → router


@pytest.fixture
def alice(app):
    return user_with_conda_package(app)


def without_date(headers) -> list:
    return sorted((k, v) for k, v in headers.items() if k != "Date")


def test_a_repeated_anonymous_get_is_replayed_with_the_same_bytes_and_headers(testapp, replay, alice):
    first = testapp.get(REPODATA)
    hits = replay.hits
    again = testapp.get(REPODATA)
    assert replay.hits == hits + 1
    assert again.body == first.body and without_date(again.headers) == without_date(first.headers)
    assert alice in again.json["packages"]


def test_if_none_match_is_answered_304_without_content_headers(testapp, replay, alice):
    etag = testapp.get(REPODATA).headers["ETag"]
    hits = replay.hits
    response = testapp.get(REPODATA, headers={"If-None-Match": f'"other", {etag}'}, status=304)
    assert replay.hits == hits + 1
    assert response.body == b"" and response.headers["ETag"] == etag and "Content-Length" not in response.headers
    testapp.get(REPODATA, headers={"If-None-Match": '"stale"'}, status=200)


def test_any_commit_ends_replay_and_the_new_upload_shows_at_once(app, testapp, replay, alice):
    testapp.get(REPODATA)
    fn, data = build_package("tool", "2.0")
    publish_conda(app, "alice", fn, data)
    hits = replay.hits
    assert fn in testapp.get(REPODATA).json["packages"]
    assert replay.hits == hits


def test_a_package_made_private_disappears_for_the_next_anonymous_client(app, testapp, replay, alice):
    assert alice in testapp.get(REPODATA).json["packages"]
    testapp.get(REPODATA)  # stored and replayed
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("tool"), "private")
    assert testapp.get(REPODATA).json["packages"] == {}
    assert testapp.get(REPODATA).json["packages"] == {}


def test_requests_with_credentials_are_neither_replayed_nor_stored(app, testapp, replay, alice):
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("tool"), "private")
    token = app.make_token("alice", "read", ["conda:download"])
    for path, headers in ((f"/t/{token}{REPODATA}", {}), (f"/conda/t/{token}/alice/noarch/repodata.json", {}),
                          (REPODATA, {"Authorization": f"token {token}"}), (REPODATA, {"Cookie": "x=1"})):
        for _ in range(2):
            testapp.get(path, headers=headers)
    assert replay.hits == 0
    assert all(b"tool-1.0" not in entry.body for entry in replay.entries.values())
    assert testapp.get(REPODATA).json["packages"] == {}  # anonymous: nothing leaked into the store
    assert alice in testapp.get(f"/t/{token}{REPODATA}").json["packages"]


def test_private_answers_are_never_stored(app, testapp, replay, alice):
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("tool"), "private")
    token = app.make_token("alice", "read", ["conda:download"])
    testapp.get(REPODATA, headers={"Authorization": f"token {token}"})
    assert not any(b"tool-1.0" in entry.body for entry in replay.entries.values())


def test_pypi_pages_are_replayed_per_negotiated_variant(app, testapp, replay):
    app.make_user("alice")
    fn, data = builders.wheel("demo", "1.0")
    app.upload("alice", fn, data)
    url = "/pypi/alice/simple/demo/"
    html = testapp.get(url, headers={"Accept": "text/html"})
    as_json = testapp.get(url, headers={"Accept": JSON})
    gz = testapp.get(url, headers={"Accept": JSON, "Accept-Encoding": "gzip"})
    hits = replay.hits
    assert testapp.get(url, headers={"Accept": "text/html"}).body == html.body
    assert testapp.get(url, headers={"Accept": JSON}).body == as_json.body
    again_gz = testapp.get(url, headers={"Accept": JSON, "Accept-Encoding": "gzip"})
    assert again_gz.headers.get("Content-Encoding") == gz.headers.get("Content-Encoding") and again_gz.body == gz.body
    assert replay.hits == hits + 3
    assert html.content_type == "text/html" and as_json.content_type == JSON


def test_errors_redirects_and_head_go_to_the_application(app, testapp, replay, alice):
    for _ in range(2):
        testapp.get("/conda/alice/noarch/nope", status=404)
        testapp.get("/pypi/alice/simple/Tool", status=301)
        testapp.head(REPODATA)
    assert replay.hits == 0 and not replay.entries


def test_memory_bound_evicts_least_recently_used(testapp, replay, alice):
    testapp.get(REPODATA)
    testapp.get("/conda/alice/noarch/repodata.json.zst")
    assert len(replay.entries) == 2
    replay.max_bytes = len(replay.entries[next(iter(replay.entries))].body) * 4 + 1
    testapp.get("/conda/alice/linux-64/repodata.json")
    assert replay.size <= replay.max_bytes
    replay.max_bytes = 0  # turned off: everything reaches the application
    hits = replay.hits
    testapp.get(REPODATA)
    assert replay.hits == hits


def test_answers_are_trusted_for_max_age_at_most(testapp, replay, alice):
    replay.max_age = 0
    testapp.get(REPODATA)
    testapp.get(REPODATA)
    assert replay.hits == 0


def test_an_answer_made_in_the_second_of_a_change_is_replayed_only_within_that_second(
        app, testapp, replay, monkeypatch):
    """Last-Modified is sent once the second of the last change is over; an answer
    made before that has none, and replaying it afterwards would keep that date
    from clients until the next write."""
    from anarepo import clock

    now = [float(int(clock.epoch())) + 0.25]
    monkeypatch.setattr(clock, "epoch", lambda: now[0])
    user_with_conda_package(app)
    early = testapp.get(REPODATA)
    assert "Last-Modified" not in early.headers
    hits = replay.hits
    assert testapp.get(REPODATA).body == early.body and replay.hits == hits + 1  # same second: replayed
    now[0] += 1
    settled = testapp.get(REPODATA)
    assert replay.hits == hits + 1  # made again, with the date
    assert settled.body == early.body and settled.headers["ETag"] == early.headers["ETag"]
    assert "Last-Modified" in settled.headers
    again = testapp.get(REPODATA)
    assert replay.hits == hits + 2 and again.headers["Last-Modified"] == settled.headers["Last-Modified"]
