"""``reindex`` rebuilds the index state of every type (conda, PyPI, R) and ``--check``
compares all of them (issue 15: it rebuilt conda alone)."""
from __future__ import annotations

from anarepo.package_types.pypi import builders
from anarepo.services.reindex import reindex
from tests.builders import r_package
from tests.conda_builders import build_package, publish_conda

JSON = "application/vnd.pypi.simple.v1+json"
PAGES = ("/pypi/alice/simple/rebuilt/", "/r/alice/src/contrib/PACKAGES", "/conda/alice/noarch/repodata.json")


def _pages(testapp):
    return [testapp.get(p, headers={"Accept": JSON}, status="*").body for p in PAGES]


def test_reindex_rebuilds_and_checks_every_type(app, testapp):
    app.make_user("alice")
    app.upload("alice", *builders.wheel("rebuilt", "1.0"))
    app.upload("alice", "mypkg_1.2.3.tar.gz", r_package())
    publish_conda(app, "alice", *build_package("tool", "1.0"))
    before = _pages(testapp)
    assert reindex(app.registry, check_only=True) == (3, [])
    with app.root() as root:
        owner = root.owners["alice"]
        del owner.indexes["pypi"].labels["main"]  # damage two kinds of state
        del owner.indexes["r"].labels["main"]
    assert _pages(testapp)[:2] != before[:2]
    assert reindex(app.registry, check_only=True) == (3, ["alice (pypi)", "alice (r)"])
    assert _pages(testapp)[:2] != before[:2]  # --check writes nothing
    assert reindex(app.registry, reinspect=True) == (3, ["alice (pypi)", "alice (r)"])
    assert reindex(app.registry, check_only=True) == (3, [])
    assert _pages(testapp) == before
