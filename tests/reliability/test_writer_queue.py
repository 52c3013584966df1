"""Every upload face lines up on the one per-package writer queue
(:func:`anarepo.http.retry.queue_writer`): while another writer of the package holds
it, an upload waits (nothing is published), and it publishes once the queue
moves.  The browser form used to rely on conflict retries alone.
"""
from __future__ import annotations

import threading

import pytest
import webtest

from anarepo.names import package_key
from anarepo.package_types.pypi import builders
from anarepo.http.retry import writer_lock
from anarepo.testing import web_login
from tests.functional.test_publishing import api_upload, twine_upload, web_upload

WAIT = 2.0  # seconds an upload must still be waiting while the queue is held


@pytest.fixture
def alice(app):
    app.make_user("alice")
    app.upload("alice", *builders.wheel("hot", "0.1"))  # the package exists
    return app.make_token("alice", "cli")


def upload_by(face, app, token, filename, data, version):
    if face == "web":
        browser = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        web_login(browser, "alice")
        return lambda: web_upload(browser, "alice", filename, data)
    testapp = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    if face == "api":
        return lambda: api_upload(testapp, token, "alice", "hot", version, filename, data, "pypi")
    return lambda: twine_upload(testapp, token, "alice", filename, data, "hot", version)


def published(app, filename) -> bool:
    with app.root() as root:
        return any(d.basename == filename for d in root.owners["alice"].get_package("hot").distributions())


@pytest.mark.parametrize("face", ["web", "api", "pypi"])
def test_an_upload_waits_for_the_other_writers_of_its_package(app, alice, face):
    version = {"web": "1.0", "api": "2.0", "pypi": "3.0"}[face]
    filename, data = builders.wheel("hot", version)
    upload = upload_by(face, app, alice, filename, data, version)
    answers = []
    lock = writer_lock("alice", package_key("hot"))
    with lock:  # another writer of alice/hot is publishing
        worker = threading.Thread(target=lambda: answers.append(upload()), daemon=True)
        worker.start()
        worker.join(WAIT)
        assert worker.is_alive(), f"the {face} upload did not wait for the package's writer queue"
        assert not published(app, filename)
    worker.join(60)
    assert answers and answers[0].status_int in (200, 302)
    assert published(app, filename)
