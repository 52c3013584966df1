"""Backends for deployment tests: a ZEO server and a throwaway PostgreSQL cluster,
each with the database configuration ``anarepo gen-config`` writes."""
from __future__ import annotations

import os

import pytest

from anarepo.deploy.config import Site, generate
from anarepo.testing import FAST_ARGON2

from .services import PostgresCluster, ZEOServer, free_port, zeo_config

IN_CI = bool(os.environ.get("CI"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "deploy: starts database servers (ZEO, PostgreSQL), nginx or app processes"
                   " (skip locally with -m 'not deploy')")


def need_postgres():
    if not PostgresCluster.available():
        if IN_CI:
            pytest.fail("PostgreSQL (Debian's postgresql package) is needed for the RelStorage tests in CI")
        pytest.skip("PostgreSQL is not installed")
    try:
        import relstorage  # noqa: F401
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.skip("RelStorage is not installed (pip install 'anarepo[relstorage]')")


class Backend:
    """A running database server plus the generated site files that point at it."""

    def __init__(self, name, site, server):
        self.name, self.site, self.server = name, site, server
        self.uri = f"zconfig://{site.path('zodb.conf')}"

    def settings(self, **extra) -> dict:
        return {"zodbconn.uri": self.uri, "jinja2.undefined": "strict",
                "anarepo.site_name": "anarepo-test", **FAST_ARGON2, **extra}


def zeo_backend(tmp_path) -> Backend:
    var = tmp_path / "var"
    var.mkdir()
    port = free_port()
    site = Site(out=str(tmp_path / "site"), var=str(var), backend="zeo", zeo_address=f"127.0.0.1:{port}")
    generate(site, "zodb")
    server = ZEOServer(zeo_config(str(var), port), port, str(tmp_path / "zeo.log")).start()
    return Backend("zeo", site, server)


def relstorage_backend(tmp_path, cluster: PostgresCluster) -> Backend:
    dsn = cluster.create_database("anarepo_" + os.urandom(4).hex())
    var = tmp_path / "var"
    var.mkdir()
    site = Site(out=str(tmp_path / "site"), var=str(var), backend="relstorage", dsn=dsn)
    generate(site, "zodb")
    return Backend("relstorage", site, cluster)


@pytest.fixture(scope="session")
def postgres():
    need_postgres()
    cluster = PostgresCluster().init().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(params=["zeo", "zeo-uri", "relstorage"])
def backend(request, tmp_path):
    if request.param.startswith("zeo"):
        backend = zeo_backend(tmp_path)
        if request.param == "zeo-uri":  # zodburi's URI: no server-sync (anarepo makes reads current itself)
            backend.uri = (f"zeo://{backend.site.zeo_address}?blob_dir={backend.site.blob_dir}"
                           "&shared_blob_dir=true&connection_pool_size=8")
        yield backend
        backend.server.stop()
    else:
        yield relstorage_backend(tmp_path, request.getfixturevalue("postgres"))
