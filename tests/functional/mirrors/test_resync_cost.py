"""An incremental conda resync reads what changed, not everything the source brought.

A source remembers each file it brought (``source.files``, a BTree); a proxy refreshes
one subdir per TTL and a mirror resyncs from cron, so a run that copied or scanned that
whole map would cost the size of the channel on every refresh (conda-forge: millions of
entries).  The cost is shown by what the run loads from the database (ZODB's transfer
counts: deterministic, unlike a timing), and the answers stay right where package
names share a prefix (``pkg03`` and ``pkg03-x``) or a name leaves the upstream.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from anarepo.db import ROOT_KEY
from tests.conda_builders import write_package
from tests.upstreams import StaticUpstream, index_channel

from .conftest import add, sync

NAMES = [f"pkg{i:02d}" for i in range(20)] + ["pkg03-x"]


@pytest.fixture
def big_upstream(tmp_path):
    """21 names x 15 versions: enough entries for many BTree buckets."""
    channel = tmp_path / "channel"
    for name in NAMES:
        for minor in range(15):
            write_package(channel, name, f"1.{minor}", "0")
    index_channel(channel)
    server = StaticUpstream(channel)
    yield server
    server.stop()


def _buckets(tree) -> list:
    out, bucket = [], tree._firstbucket
    while bucket is not None:
        out, bucket = out + [bucket], bucket._next
    return out


def test_an_incremental_resync_reads_only_the_changed_packages(mirror_app, big_upstream):
    from anarepo.sources.fetch import fetcher_for
    from anarepo.sources.shadowing import LocalPackages
    from anarepo.sources.sync import _Creds, find_source, listing_for, plan, view_of

    channel = Path(big_upstream.directory)
    add(mirror_app, url=big_upstream.url, remove_missing=True)
    assert sync(mirror_app)["added"] == len(NAMES) * 15
    write_package(channel, "pkg03", "2.0", "0")  # one new file of pkg03
    for path in (channel / "noarch").glob("pkg03-x-*"):
        path.unlink()  # pkg03-x leaves the upstream (its name shares pkg03's key prefix)
    index_channel(channel)

    db = mirror_app.db
    with db.transaction() as conn:  # what one run reads of source.files: the view, then the plan
        buckets = _buckets(find_source(conn.root()[ROOT_KEY], "alice", "up")[1].files)
        assert len(buckets) >= 10
        conn.cacheMinimize()  # every bucket a ghost again: one that is read is loaded
        view = view_of(*find_source(conn.root()[ROOT_KEY], "alice", "up"))
        listing = listing_for(view, fetcher_for(_Creds(view), mirror_app.registry.settings),
                              mirror_app.registry.package_types["conda"].upstream_records)
        source = find_source(conn.root()[ROOT_KEY], "alice", "up")[1]
        to_fetch, to_remove, _ = plan(view, listing, source.files)
        read = sum(bucket._p_status != "ghost" for bucket in buckets)
        owner = conn.root()[ROOT_KEY].owners["alice"]
        dists = [d for r in owner.get_package("pkg03").releases.values() for d in r.files.values()]
        conn.cacheMinimize()
        assert not LocalPackages(owner, False).shadows("pkg03")  # the guard: no file of it is read
        assert all(dist._p_status == "ghost" for dist in dists)
    assert list(to_fetch) == ["noarch/pkg03-2.0-0.tar.bz2"]
    assert sorted(to_remove) == sorted(f"noarch/pkg03-x-1.{m}-0.tar.bz2" for m in range(15))
    # a copy or a scan of every entry reads all 20 buckets; this reads the two changed
    # names' (30 entries: 2-3 buckets) and the first and last (the whole run's subdir ends)
    assert read <= 6, (read, len(buckets))

    run = sync(mirror_app)
    assert (run["added"], run["removed"], run["unchanged"], run["failed"]) == (1, 15, 20 * 15, 0), run
    with db.transaction() as conn:
        source = find_source(conn.root()[ROOT_KEY], "alice", "up")[1]
        assert source.count_files() == len(source.files) == 20 * 15 + 1
        assert source.describe()["files"] == 20 * 15 + 1


def test_a_whole_run_still_removes_a_subdir_the_source_no_longer_reads(mirror_app, conda_upstream):
    """Beyond what it read, a whole run finds each other subdir by one range query."""
    add(mirror_app, url=conda_upstream.url, subdirs=("noarch", "linux-64"), remove_missing=True)
    assert sync(mirror_app)["added"] == 7
    with mirror_app.root() as root:
        root.owners["alice"].sources["up"].configure(subdirs=("noarch",))
    run = sync(mirror_app)
    assert (run["added"], run["removed"], run["failed"]) == (0, 3, 0), run
