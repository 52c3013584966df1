"""A local conda upstream channel and a local PEP 503 tree for each test."""
from __future__ import annotations

import pytest

from anarepo.package_types.pypi.builders import sdist, wheel
from tests.conda_builders import write_package
from tests.upstreams import StaticUpstream, index_channel, write_simple_tree


@pytest.fixture
def conda_upstream(tmp_path):
    """noarch: tool 1.0/2.0/3.0, gpl-thing; linux-64: libdep 1.0 (two builds), 0.9."""
    channel = tmp_path / "upstream-channel"
    write_package(channel, "tool", "1.0", "0")
    write_package(channel, "tool", "2.0", "0")
    write_package(channel, "tool", "3.0", "0", fmt=".conda")
    write_package(channel, "gplthing", "1.0", "0", index_extra={"license": "GPL-3.0"})
    write_package(channel, "libdep", "1.0", "h1", subdir="linux-64", fmt=".conda")
    write_package(channel, "libdep", "1.0", "py311h2", subdir="linux-64")
    write_package(channel, "libdep", "0.9", "h0", subdir="linux-64")
    index_channel(channel)
    server = StaticUpstream(channel)
    yield server
    server.stop()


@pytest.fixture
def pypi_files():
    return dict([wheel("demo", "1.0"), wheel("demo", "2.0"), sdist("demo", "2.0"), wheel("other", "0.1"),
                 wheel("demo", "2.0", tag="cp311-cp311-manylinux_2_17_x86_64")])


@pytest.fixture
def pypi_upstream(tmp_path, pypi_files):
    tree = tmp_path / "upstream-pypi"
    write_simple_tree(tree, pypi_files)
    server = StaticUpstream(tree)
    yield server
    server.stop()


@pytest.fixture
def mirror_app(app):
    app.make_user("alice")
    app.make_user("bob")
    return app


def add(app, owner="alice", name="up", kind="conda", url="", **options):
    from anarepo.sources.service import add_source

    with app.root() as root:
        add_source(root.owners[owner], name, kind, url, **options)


def sync(app, owner="alice", name="up", **kw):
    from anarepo.sources.sync import sync as run

    return run(app.registry, owner, name, **kw)
