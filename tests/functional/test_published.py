"""Published public index documents (anarepo/deploy/published.py) against the real app
and database: what is written for nginx to send alone, and that every commit that may
change a document, from a request or not, ends it before the commit returns (a
download-count flush or a login does not).  The same path through a real nginx
and two processes: tests/deploy/test_multiprocess.py."""
from __future__ import annotations

import os

import pytest

from anarepo.deploy.published import PublishingConnection
from anarepo.package_types.pypi import builders
from anarepo.services.packages import set_access
from anarepo.testing import after_this_second, make_settings
from tests.conda_builders import build_package, publish_conda, user_with_conda_package

REPODATA = "/conda/alice/noarch/repodata.json"
PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **{"anarepo.publish.dir": str(tmp_path / "published")})


@pytest.fixture
def root(app):
    return app.registry.settings["anarepo.publish.dir"]


def published(root, path, variant="none", ext="json") -> bytes | None:
    """What nginx would send for ``http://localhost<path>`` (its try_files candidate)."""
    try:
        with open(os.path.join(root, "current", "http", "localhost" + path) + f"@{variant}.{ext}", "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


@pytest.fixture
def alice(app):
    """alice's package, published long enough ago for its documents to carry a date:
    documents made in the second of their last change are answered, never published."""
    fn = user_with_conda_package(app)
    after_this_second()
    return fn


def test_an_anonymous_public_document_is_published_with_the_apps_bytes(testapp, root, alice):
    body = testapp.get(REPODATA).body
    assert alice.encode() in body
    assert published(root, REPODATA) == body


def test_every_commit_ends_what_was_published_and_the_next_answer_is_fresh(app, testapp, root, alice):
    testapp.get(REPODATA)
    assert published(root, REPODATA) is not None
    fn, data = build_package("tool", "2.0")
    publish_conda(app, "alice", fn, data)  # a commit outside any request (the operator's way)
    assert published(root, REPODATA) is None
    after_this_second()
    body = testapp.get(REPODATA).body
    assert fn.encode() in body and published(root, REPODATA) == body
    # a commit through a request (an upload by a token holder) ends it too
    token = app.make_token("alice", "up", ["pypi:upload"])
    wheel, wheel_data = builders.wheel("demo", "1.0")
    testapp.get("/pypi/alice/simple/demo/", status=404)
    from tests.functional.pypi.conftest import basic, upload_fields

    testapp.post("/pypi/alice/", upload_fields(wheel, wheel_data, "demo", "1.0"),
                 upload_files=[("content", wheel, wheel_data)], headers=basic(token))
    assert published(root, REPODATA) is None
    after_this_second()
    page = testapp.get("/pypi/alice/simple/demo/").body
    assert published(root, "/pypi/alice/simple/demo/", "none", "html") == page
    json_page = testapp.get("/pypi/alice/simple/demo/", headers={"Accept": PIP_ACCEPT}).body
    assert published(root, "/pypi/alice/simple/demo/", "pip", "pypijson") == json_page
    assert json_page.startswith(b"{")


def test_all_connections_of_the_database_publish_their_commits(app):
    conn = app.db.open()
    try:
        assert isinstance(conn, PublishingConnection)
    finally:
        conn.close()


@pytest.mark.parametrize("headers, query", [
    ({"Authorization": "Bearer nope"}, ""),
    ({"Cookie": "anarepo_session=x"}, ""),
    ({}, "?x=1"),
    ({"Accept": "application/json;q=0.5"}, ""),
])
def test_requests_nginx_would_not_serve_from_a_file_publish_nothing(testapp, root, alice, headers, query):
    testapp.get(REPODATA + query, headers=headers, status="*")
    assert not os.path.exists(os.path.join(root, "current")) or published(root, REPODATA) is None
    assert published(root, REPODATA, "all") is None


def test_private_documents_are_never_published(app, testapp, root, alice):
    with app.root() as r:
        set_access(app.registry, r.owners["alice"].get_package("tool"), "private")
    token = app.make_token("alice", "read", ["conda:download"])
    for headers in ({}, {"Authorization": f"token {token}"}):
        testapp.get(REPODATA, headers=headers)
    assert published(root, REPODATA) is None or b"tool" not in published(root, REPODATA)
    assert published(root, REPODATA, "all") is None


def test_an_answer_rendered_before_a_commit_is_not_published(app, testapp, root, alice):
    replay = testapp.app.app.app
    tid = replay.revision()
    fn, data = build_package("tool", "3.0")
    publish_conda(app, "alice", fn, data)
    environ = {"PATH_INFO": REPODATA, "HTTP_HOST": "localhost", "wsgi.url_scheme": "http"}
    assert replay.publisher.publish(environ, "200 OK", [("Content-Type", "application/json")], b"{}", tid) is None
    assert published(root, REPODATA) is None


def test_a_download_count_flush_or_a_login_does_not_end_the_documents_an_upload_does(app, testapp, root, alice):
    """Only commits that may change what a document shows end the published ones: the
    download counts flushed after a download and a login's throttle counters do not;
    an upload does, and the next answer is the new one."""
    import webtest

    from anarepo.services.downloads import flush_all
    from anarepo.testing import csrf_from, web_login

    body = testapp.get(REPODATA).body
    assert published(root, REPODATA) == body
    before = app.db.lastTransaction()
    assert testapp.get(f"/conda/alice/noarch/{alice}").status_int == 200  # a download...
    assert flush_all() == 1  # ... counted in a commit of its own
    browser = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    page = browser.get("/account/login")
    wrong = {"login": "alice", "password": "wrong-password-1", "csrf_token": csrf_from(page)}
    browser.post("/account/login", wrong, status="*")  # a failed login: its throttle counter is written
    web_login(browser, "alice")  # and a successful one
    assert app.db.lastTransaction() != before  # the database moved on
    assert published(root, REPODATA) == body  # the documents did not
    assert testapp.get(REPODATA).body == body
    fn, data = build_package("tool", "2.0")
    publish_conda(app, "alice", fn, data)
    assert published(root, REPODATA) is None
    after_this_second()
    fresh = testapp.get(REPODATA).body
    assert fn.encode() in fresh and published(root, REPODATA) == fresh


def test_a_database_from_before_the_documents_counter_starts_read_only_and_gets_it_writable(tmp_path):
    """Start-up creates the counter, except on a read-only database (which starts)."""
    from anarepo import main
    from anarepo.deploy.published import DOCUMENTS_KEY
    from anarepo.testing import AppHarness

    first = AppHarness(main({}, **make_settings(tmp_path)))
    with first.db.transaction() as conn:
        del conn.root()[DOCUMENTS_KEY]  # as a database stored by an older release
    first.close()
    settings = make_settings(tmp_path)
    settings["zodbconn.uri"] += "&read_only=1"
    AppHarness(main({}, **settings)).close()
    again = AppHarness(main({}, **make_settings(tmp_path)))
    try:
        with again.db.transaction() as conn:
            assert DOCUMENTS_KEY in conn.root()
    finally:
        again.close()
