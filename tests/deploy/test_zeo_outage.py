"""A ZEO outage answers at once: 503 with ``Retry-After`` within a few seconds on
every face (JSON on ``/api``), and the same process serves again, by itself,
once the server is back.

A request used to wait ZEO's ``wait-timeout`` (30 s) for the server, and then
each of pyramid_retry's 16 attempts waited again: minutes per request.  Now a
request waits ``anarepo.zeo_wait_timeout`` (2 s) at most once, and an
unavailable database is not retried (docs/reliability.md, "Database outages").
"""
from __future__ import annotations

import hashlib
import threading
import time
from urllib.parse import urljoin

import pytest
import webtest

from anarepo import main
from anarepo.package_types.pypi import builders
from anarepo.testing import AppHarness
from tests.functional.pypi.conftest import basic, upload_fields

from .conftest import zeo_backend
from .services import ZEOServer

pytestmark = pytest.mark.deploy

#: seconds a request may take during the outage: the client's wait (2 s) twice
#: (the replay middleware's revision check, then the request's own), with room
BOUND = 10


@pytest.fixture
def site(tmp_path):
    backend = zeo_backend(tmp_path)
    app = AppHarness(main({}, **backend.settings()))
    app.make_user("alice")
    token = app.make_token("alice", "ci")
    app.upload("alice", *builders.wheel("demo", "1.0"))
    yield backend, app, token
    app.close()
    backend.server.stop()


def requests_on_every_face(token):
    """(what, method, path, kwargs) covering each face, reads and uploads."""
    fn, data = builders.wheel("demo", "2.0")
    auth = {"Authorization": f"token {token}"}
    return [
        ("API read", "get", "/api/user", {"headers": auth}),
        ("API stage", "post_json", f"/api/stage/alice/demo/2.0/{fn}",
         {"params": {"distribution_type": "pypi", "sha256": hashlib.sha256(data).hexdigest()}, "headers": auth}),
        ("PyPI index", "get", "/pypi/alice/simple/demo/", {}),
        ("PyPI upload", "post", "/pypi/alice/", {"params": upload_fields(fn, data, "demo", "2.0"),
                                                 "upload_files": [("content", fn, data)], "headers": basic(token)}),
        ("conda index", "get", "/conda/alice/noarch/repodata.json", {}),
        ("web page", "get", "/alice/demo/", {}),
    ]


def timed(testapp, method, path, kwargs):
    """The answer and how long it took, or None if it took longer than BOUND."""
    result = {}

    def run():
        started = time.monotonic()
        result["response"] = getattr(testapp, method)(path, expect_errors=True, **kwargs)
        result["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(BOUND)
    return result if "response" in result else None


def test_a_zeo_outage_answers_503_promptly_and_the_process_recovers(site):
    backend, app, token = site
    testapp = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    backend.server.kill()
    try:
        for what, method, path, kwargs in requests_on_every_face(token):
            answer = timed(testapp, method, path, kwargs)
            assert answer is not None, f"{what}: no answer within {BOUND} s during the outage"
            response = answer["response"]
            assert response.status_int == 503, (what, response.status, response.text[:300])
            assert response.headers.get("Retry-After"), what
            if path.startswith("/api/"):
                assert "database" in response.json["error"], what
    finally:
        server = backend.server
        backend.server = ZEOServer(server.config_path, server.port, server.log_path).start()
    # the same process serves again by itself: reads, then an upload that downloads intact
    deadline = time.monotonic() + 60
    while testapp.get("/api/user", headers={"Authorization": f"token {token}"},
                      expect_errors=True).status_int != 200:
        assert time.monotonic() < deadline, "the process did not reconnect"
        time.sleep(0.5)
    fn, data = builders.wheel("demo", "3.0")
    testapp.post("/pypi/alice/", upload_fields(fn, data, "demo", "3.0"), upload_files=[("content", fn, data)],
                 headers=basic(token), status=200)
    page = testapp.get("/pypi/alice/simple/demo/")
    href = page.html.find("a", string=fn)["href"].split("#")[0]
    assert hashlib.sha256(testapp.get(urljoin(page.request.path, href)).body).digest() == \
        hashlib.sha256(data).digest()
