"""Index maintenance: every change updates the affected package's records, in its transaction."""
from __future__ import annotations

import pytest

from anarepo.services import labels as label_ops
from anarepo.package_types.conda.index import get_channel, snapshot
from tests.conda_builders import build_package, publish_conda


def files_of(testapp, path) -> set:
    doc = testapp.get(path).json
    return set(doc["packages"]) | set(doc["packages.conda"])


@pytest.fixture
def channel(app):
    app.make_user("alice")
    app.make_user("bob")
    publish_conda(app, "alice", *build_package("tool", "1.0"))
    publish_conda(app, "alice", *build_package("tool", "2.0", fmt=".conda"))
    publish_conda(app, "alice", *build_package("lib", "1.0", subdir="linux-64"))
    return app


def dists(root, package, version=None):
    pkg = root.owners["alice"].packages[package]
    return [d for d in pkg.distributions() if version is None or d.version == version]


def test_label_add_copy_move_and_remove(channel, testapp):
    app = channel
    with app.root() as root:
        label_ops.add_files(app.registry, root.owners["alice"], "dev", dists(root, "tool", "2.0"))
    assert files_of(testapp, "/conda/alice/label/dev/noarch/repodata.json") == {"tool-2.0-0.conda"}
    assert "tool-2.0-0.conda" in files_of(testapp, "/conda/alice/noarch/repodata.json")
    with app.root() as root:
        label_ops.copy_label(app.registry, root.owners["alice"], "dev", "staging")
    assert files_of(testapp, "/conda/alice/label/staging/noarch/repodata.json") == {"tool-2.0-0.conda"}
    with app.root() as root:
        label_ops.move_files(app.registry, root.owners["alice"], "main", "old", dists(root, "tool", "1.0"))
    assert files_of(testapp, "/conda/alice/noarch/repodata.json") == {"tool-2.0-0.conda"}
    assert files_of(testapp, "/conda/alice/label/old/noarch/repodata.json") == {"tool-1.0-0.tar.bz2"}
    testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2", status=404)
    testapp.get("/conda/alice/label/old/noarch/tool-1.0-0.tar.bz2", status=200)
    with app.root() as root:
        label_ops.remove_label(app.registry, root.owners["alice"], "staging")
    testapp.get("/conda/alice/label/staging/noarch/repodata.json", status=404)
    assert testapp.get("/conda/alice/label/old/channeldata.json").json["packages"]["tool"]["version"] == "1.0"
    assert testapp.get("/conda/alice/channeldata.json").json["packages"]["tool"]["version"] == "2.0"


def test_a_label_change_leaves_other_subdirs_and_packages_untouched(channel, testapp):
    app = channel
    linux = testapp.get("/conda/alice/linux-64/repodata.json")
    with app.root() as root:
        label_ops.add_files(app.registry, root.owners["alice"], "dev", dists(root, "tool"))
    testapp.get("/conda/alice/linux-64/repodata.json", headers={"If-None-Match": linux.headers["ETag"]}, status=304)


def test_removing_files_releases_and_packages(channel, testapp):
    from anarepo.services.contents import remove_distribution, remove_package, remove_release

    app = channel
    with app.root() as root:
        remove_distribution(app.registry, dists(root, "tool", "2.0")[0])
    assert files_of(testapp, "/conda/alice/noarch/repodata.json") == {"tool-1.0-0.tar.bz2"}
    testapp.get("/conda/alice/noarch/tool-2.0-0.conda", status=404)
    assert testapp.get("/conda/alice/channeldata.json").json["packages"]["tool"]["version"] == "1.0"
    with app.root() as root:
        remove_release(app.registry, root.owners["alice"].packages["tool"].releases["1.0"])
    assert files_of(testapp, "/conda/alice/noarch/repodata.json") == set()
    assert "tool" not in testapp.get("/conda/alice/channeldata.json").json["packages"]
    with app.root() as root:
        remove_package(app.registry, root.owners["alice"].packages["lib"])
    assert files_of(testapp, "/conda/alice/linux-64/repodata.json") == set()
    with app.root() as root:
        assert dict(get_channel(root.owners["alice"]).places) == {}


def test_transfer_moves_the_records_to_the_new_owner(channel, testapp):
    from anarepo.services.packages import transfer_package

    app = channel
    with app.root() as root:
        transfer_package(app.registry, root, root.owners["alice"].packages["tool"], root.owners["bob"])
    assert files_of(testapp, "/conda/alice/noarch/repodata.json") == set()
    assert files_of(testapp, "/conda/bob/noarch/repodata.json") == {"tool-1.0-0.tar.bz2", "tool-2.0-0.conda"}
    assert testapp.get("/conda/bob/noarch/tool-1.0-0.tar.bz2").status_int == 200
    testapp.get("/conda/alice/noarch/tool-1.0-0.tar.bz2", status=404)


def test_a_yanked_file_moves_to_removed_but_stays_downloadable(channel, testapp):
    from anarepo.services.events import package_changed

    app = channel
    with app.root() as root:
        dist = dists(root, "tool", "2.0")[0]
        dist.yanked = "broken"
        package_changed(app.registry, dist.package)
    doc = testapp.get("/conda/alice/noarch/repodata.json").json
    assert doc["removed"] == ["tool-2.0-0.conda"] and "tool-2.0-0.conda" not in doc["packages.conda"]
    assert testapp.get("/conda/alice/channeldata.json").json["packages"]["tool"]["version"] == "1.0"
    testapp.get("/conda/alice/noarch/tool-2.0-0.conda", status=200)


def test_unchanged_packages_do_not_bump_revisions(channel, testapp):
    from anarepo.services.events import package_changed

    app = channel
    before = testapp.get("/conda/alice/noarch/repodata.json")
    with app.root() as root:
        package_changed(app.registry, root.owners["alice"].packages["tool"])
    testapp.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": before.headers["ETag"]}, status=304)


def test_non_conda_packages_cost_nothing(app):
    app.make_user("carol")
    app.publish_file("carol", "data", "1", "data.csv", b"a,b\n")
    with app.root() as root:
        assert get_channel(root.owners["carol"]) is None


def test_reindex_rebuilds_the_same_state(channel, testapp):
    from anarepo.services.packages import set_access
    from anarepo.package_types.conda.admin import reindex

    app = channel
    with app.root() as root:
        label_ops.add_files(app.registry, root.owners["alice"], "dev", dists(root, "tool", "2.0"))
        set_access(app.registry, root.owners["alice"].packages["lib"], "private")
    with app.root() as root:
        kept = snapshot(get_channel(root.owners["alice"]))
    repodata = testapp.get("/conda/alice/label/dev/noarch/repodata.json").body
    count, differing = reindex(app.registry, check_only=True)
    assert (count, differing) == (2, [])
    count, differing = reindex(app.registry, reinspect=True)
    assert (count, differing) == (2, [])
    with app.root() as root:
        assert snapshot(get_channel(root.owners["alice"])) == kept
    assert testapp.get("/conda/alice/label/dev/noarch/repodata.json").body == repodata


def test_reindex_check_reports_a_damaged_index(channel):
    from anarepo.package_types.conda.admin import reindex

    app = channel
    with app.root() as root:
        sub = get_channel(root.owners["alice"]).labels["main"].subdirs["noarch"]
        del sub.frags["tool"]
    assert reindex(app.registry, check_only=True) == (2, ["alice"])
    assert reindex(app.registry) == (2, ["alice"])
    assert reindex(app.registry, check_only=True) == (2, [])
