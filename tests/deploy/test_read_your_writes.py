"""Read-your-writes across processes on ZEO and RelStorage.

Two applications, each with its own database connection (its own ZEO client or
RelStorage instance, as two processes have), share one database server.  Every
write acknowledged by one is visible in the very next request to the other:
anonymous index documents (through the replay middleware), authenticated API
reads, and the middle step of a staged upload.  No bound is kept: 0 stale reads.
"""
from __future__ import annotations

import pytest
import webtest

from anarepo import main
from anarepo.package_types.pypi import builders
from anarepo.testing import AppHarness
from tests.conda_builders import build_package

pytestmark = pytest.mark.deploy

ROUNDS = 15


@pytest.fixture
def pair(backend):
    apps = [AppHarness(main({}, **backend.settings())) for _ in range(2)]
    yield apps
    for app in apps:
        app.close()


def client(app):
    return webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})


def test_anonymous_index_documents_show_the_other_process_upload_at_once(pair):
    a, b = pair
    a.make_user("alice")
    readers = [client(a), client(b)]
    for reader in readers:  # stored in each process's replay middleware
        reader.get("/conda/alice/noarch/repodata.json")
    stale = []
    for i in range(ROUNDS):
        writer = pair[i % 2]
        fn, data = build_package("tool", f"1.{i}")
        writer.upload("alice", fn, data)
        wheel, wdata = builders.wheel("demo", f"1.{i}")
        writer.upload("alice", wheel, wdata)
        for n, reader in enumerate(readers):
            for _ in range(2):  # the second read is the replayed one
                if fn not in reader.get("/conda/alice/noarch/repodata.json").json["packages"]:
                    stale.append(("conda", i, n))
                if wheel not in reader.get("/pypi/alice/simple/demo/").text:
                    stale.append(("pypi", i, n))
    assert stale == []
    assert sum(r.app.app.hits for r in readers) >= ROUNDS * 2  # and replay was in use meanwhile


def test_authenticated_reads_and_upload_steps_see_the_other_process_commit(pair):
    a, b = pair
    a.make_user("alice")
    token = a.make_token("alice", "cli")
    auth = {"Authorization": f"token {token}"}
    ta, tb = client(a), client(b)
    for i in range(ROUNDS):
        first, second = (ta, tb) if i % 2 == 0 else (tb, ta)
        name = f"pkg{i}"
        first.post_json(f"/api/package/alice/{name}", {"summary": "s", "license": "MIT"}, headers=auth, status=200)
        assert second.get(f"/api/package/alice/{name}", headers=auth, status=200).json["name"] == name
