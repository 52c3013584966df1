"""pytest fixtures for anarepo and for plugin authors (entry point ``pytest11``).

Every test gets a real FileStorage with blobs in a temporary directory, the
real application (``anarepo.main``) and WebTest on top; ``live_server`` serves
the same application with waitress on 127.0.0.1 for real clients.
"""
from __future__ import annotations

import re
import socket
import threading
from contextlib import contextmanager

import pytest

FAST_ARGON2 = {"anarepo.argon2.time_cost": "1", "anarepo.argon2.memory_cost": "64"}
DEFAULT_PASSWORD = "correct-horse-battery"


def make_settings(path, **extra) -> dict:
    data = path / "var"
    settings = {
        "zodbconn.uri": f"file://{data}/Data.fs?blob_dir={data}/blobs&connection_pool_size=8",
        "jinja2.undefined": "strict",
        "anarepo.site_name": "anarepo-test",
        "anarepo.sources.private_upstreams": "true",  # the tests' upstreams are on 127.0.0.1
        **FAST_ARGON2,
    }
    settings.update(extra)
    return settings


class AppHarness:
    """The WSGI app plus direct access to its database, for arranging tests."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.registry = wsgi_app.app.registry

    @property
    def db(self):
        from .db import get_db

        return get_db(self.registry)

    @contextmanager
    def root(self, note: str = "test"):
        """The Root in a transaction committed on exit (aborted on error)."""
        from .db import open_root

        with open_root(self.registry, note) as root:
            yield root

    def make_user(self, login, password=DEFAULT_PASSWORD, email=None, admin=False):
        from .services.accounts import create_user
        from .names import reserved_owner_names

        with self.root() as root:
            create_user(root, login, email or f"{login}@example.com", password, is_admin=admin,
                        reserved=reserved_owner_names(self.registry))
        return login

    def make_org(self, login, owner):
        from .services.accounts import create_organization
        from .names import reserved_owner_names

        with self.root() as root:
            create_organization(root, login, f"{login}@example.com", root.owners[owner],
                                reserved=reserved_owner_names(self.registry))
        return login

    def make_token(self, login, name="test", scopes=None, max_age=None, org=None):
        from .security.permissions import scope_table
        from .security.tokens import create_token

        with self.root() as root:
            raw, _ = create_token(root, root.owners[login], name, scopes, max_age=max_age, org=org,
                                  known_scopes=scope_table(self.registry))
        return raw

    def publish_file(self, owner, package, version, basename, data: bytes, type_name=None,
                     labels=None, access="public", replace=False, **described):
        """Store ``data`` as ``owner/package/version/basename`` without inspecting it
        (raw fixtures), through the publishing service, as the operator; ``described``
        are FileInfo fields (``summary``, ``description``, ``attrs``...) as an
        inspection would have given them."""
        import io

        from .plugins import FileInfo
        from .services.publishing import publish
        from .storage import blob_tmpdir, spool

        with self.root() as root:
            spooled = spool(io.BytesIO(data), blob_tmpdir(self.db), max_size=1 << 34)
            types = self.registry.package_types
            # by default the type that takes files no type detects (plain files)
            ptype = types[type_name] if type_name else next(t for t in types.ordered() if t.takes_undetected)
            info = FileInfo(package, version, basename, **described)
            try:
                dist = publish(root.owners[owner], spooled, ptype, info, labels=labels, access=access,
                               replace=replace, uploader=owner, operator=self.registry)
            except BaseException:
                spooled.discard()
                raise
            return dist.sha256

    def upload(self, owner, filename, data: bytes, type_name=None, name=None, version=None, labels=None,
               access="public"):
        """Detect, inspect and publish ``data`` as ``filename``, as real uploads do (as the operator)."""
        import io

        from .services.publishing import inspect_upload, publish, resolve_type
        from .storage import blob_tmpdir, spool

        with self.root() as root:
            spooled = spool(io.BytesIO(data), blob_tmpdir(self.db), max_size=1 << 34)
            try:
                ptype = resolve_type(self.registry, filename, spooled.path, type_name)
                info = inspect_upload(ptype, spooled.path, filename, name=name, version=version,
                                      registry=self.registry)
                dist = publish(root.owners[owner], spooled, ptype, info, labels=labels, access=access,
                               uploader=owner, operator=self.registry)
            except BaseException:
                spooled.discard()
                raise
            return dist.package.name, dist.version, dist.basename

    def close(self):
        from .db import close_db

        close_db(self.db)


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
def app(anarepo_settings):
    from . import main

    harness = AppHarness(main({}, **anarepo_settings))
    yield harness
    harness.close()


@pytest.fixture
def testapp(app):
    import webtest

    return webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})


def csrf_from(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def web_login(testapp, login, password=DEFAULT_PASSWORD):
    page = testapp.get("/account/login")
    return testapp.post(
        "/account/login",
        {"login": login, "password": password, "csrf_token": csrf_from(page)},
        status=302,
    )


class LiveServer:
    """waitress serving the app on a free loopback port in a thread."""

    def __init__(self, wsgi_app, threads: int = 4):
        from waitress.server import create_server

        self.server = create_server(
            wsgi_app, host="127.0.0.1", port=0, threads=threads,
            max_request_body_size=1 << 34, clear_untrusted_proxy_headers=True,
        )
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass
        return self

    def stop(self):
        self.server.close()
        self.thread.join(timeout=5)


@contextmanager
def served_app(path, users=(), orgs=None, **settings):
    """A fresh app on a database in ``path``, with users and orgs, served by waitress.

    Yields ``(harness, live_server)``; for module-scoped fixtures of client tests.
    """
    from . import main

    harness = AppHarness(main({}, **make_settings(path, **settings)))
    for login in users:
        harness.make_user(login)
    for org, owner in (orgs or {}).items():
        harness.make_org(org, owner)
    live = LiveServer(harness.wsgi_app).start()
    try:
        yield harness, live
    finally:
        live.stop()
        harness.close()


@pytest.fixture
def live_server(app):
    server = LiveServer(app.wsgi_app).start()
    yield server
    server.stop()


def hold_inspection_pool(pool):
    """Take every worker and queue place of an InspectionPool with real jobs that wait
    (a busy server, for tests of what happens beyond it); returns the release function."""
    import time

    release = threading.Event()
    held = [threading.Thread(target=lambda: pool.run(0, release.wait)) for _ in range(pool.slots._value)]
    for thread in held:
        thread.start()
    for _ in range(200):
        if pool.slots._value == 0:
            break
        time.sleep(0.01)

    def done():
        release.set()
        for thread in held:
            thread.join()
    return done


def after_this_second() -> None:
    """Wait until the current wall-clock second is over: index documents get their
    Last-Modified (and may be published for nginx) only once the second of their
    last change has passed (:func:`anarepo.http.caching.settled`)."""
    import time

    time.sleep(1.02 - time.time() % 1)
