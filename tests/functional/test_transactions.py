"""Transaction wiring: conflicts are retried, errors and reads commit nothing."""
import pytest
import webtest
from pyramid.response import Response

from anarepo import finish_startup, make_config
from anarepo.db import get_db
from anarepo.http.middleware import TokenPrefixMiddleware
from anarepo.testing import make_settings


def conflict_view(request):
    """Loads the root, lets another connection change it first, then writes it too."""
    attempts = request.environ.setdefault("test.attempts", [])
    attempts.append(len(attempts) + 1)
    root = request.root
    root.owners  # noqa: B018 - load state from this transaction's snapshot
    if len(attempts) == 1:
        with get_db(request.registry).transaction() as conn:
            conn.root()["anarepo"].site_note = "written by another connection"
    root.site_note = f"written by attempt {len(attempts)}"
    return Response("ok")


def vetoed_view(request):
    request.root.site_note = "must not be committed"
    return Response("refused", status=400)


def exploding_view(request):
    request.root.site_note = "must not be committed"
    raise RuntimeError("boom")


def read_that_writes(request):
    request.root.site_note = "a GET must not commit"
    return Response("ok")


def add_test_views(config):
    from pyramid.security import NO_PERMISSION_REQUIRED

    for name, view in [("conflict", conflict_view), ("veto", vetoed_view), ("explode", exploding_view), ("readwrite", read_that_writes)]:
        config.add_route(f"test-{name}", f"/test/{name}")
        config.add_view(view, route_name=f"test-{name}", permission=NO_PERMISSION_REQUIRED, require_csrf=False)


@pytest.fixture
def harness(tmp_path):
    config = make_config(make_settings(tmp_path))
    config.include(add_test_views)
    app = config.make_wsgi_app()
    finish_startup(app.registry)
    db = get_db(app.registry)
    yield webtest.TestApp(TokenPrefixMiddleware(app)), db
    db.close()


def site_note(db):
    with db.transaction() as conn:
        return getattr(conn.root()["anarepo"], "site_note", None)


def test_conflict_error_is_retried(harness):
    testapp, db = harness
    response = testapp.post("/test/conflict", extra_environ={"test.attempts": []})
    assert response.text == "ok"
    assert site_note(db) == "written by attempt 2"


def test_conflict_really_happened_on_the_first_attempt(harness):
    testapp, db = harness
    attempts = []
    testapp.post("/test/conflict", extra_environ={"test.attempts": attempts})
    assert attempts == [1, 2]


def test_4xx_response_commits_nothing(harness):
    testapp, db = harness
    testapp.post("/test/veto", status=400)
    assert site_note(db) is None


def test_exception_commits_nothing(harness):
    """A bug answers the catch-all error page (never waitress's) and commits nothing."""
    testapp, db = harness
    response = testapp.post("/test/explode", status=500)
    assert "internal server error" in response.text
    assert site_note(db) is None


def test_get_never_commits(harness):
    testapp, db = harness
    testapp.get("/test/readwrite", status=200)
    assert site_note(db) is None
    testapp.post("/test/readwrite", status=200)
    assert site_note(db) == "a GET must not commit"


def test_evolve_steps_run_once_on_an_older_database(tmp_path):
    settings = make_settings(tmp_path)
    first = make_config(settings)
    app = first.make_wsgi_app()
    finish_startup(app.registry)
    get_db(app.registry).close()

    calls = []

    def add_flag(root):
        calls.append(root)
        root.evolved_flag = True

    def with_step(config):
        config.add_evolve_step(add_flag, "test.add_flag")

    for _ in range(2):  # the second start finds the step finished
        config = make_config(settings)
        config.include(with_step)
        app = config.make_wsgi_app()
        finish_startup(app.registry)
        db = get_db(app.registry)
        with db.transaction() as conn:
            root = conn.root()["anarepo"]
            assert root.evolved_flag is True
            assert "test.add_flag" in root.finished_evolve_steps
        db.close()
    assert len(calls) == 1


def test_a_fresh_database_marks_every_step_finished(tmp_path):
    def with_step(config):
        config.add_evolve_step(lambda root: pytest.fail("must not run on a fresh database"), "test.never")

    config = make_config(make_settings(tmp_path))
    config.include(with_step)
    app = config.make_wsgi_app()
    finish_startup(app.registry)
    db = get_db(app.registry)
    with db.transaction() as conn:
        assert "test.never" in conn.root()["anarepo"].finished_evolve_steps
    db.close()
