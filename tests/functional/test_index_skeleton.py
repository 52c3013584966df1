"""The conda, PyPI and R indexes build on one skeleton in the core
(anarepo/resources/indexes.py): revision and public revision, restricted set,
package → places, and one ``visible_subset`` that decides what a requester may list."""
from __future__ import annotations

from anarepo.package_types.pypi.builders import wheel
from anarepo.services.contents import remove_package
from anarepo.resources.indexes import IndexRoot, IndexSkeleton, Revision
from anarepo.services.packages import set_access
from tests.builders import r_package
from tests.conda_builders import build_package, publish_conda

PACKAGES = "/r/alice/src/contrib/PACKAGES"


def test_the_three_indexes_keep_their_state_on_the_skeleton(app, testapp):
    app.make_user("alice")
    fn, data = build_package("tool", "1.0")
    publish_conda(app, "alice", fn, data)
    name, body = wheel("demo", "1.0")
    app.upload("alice", name, body)
    app.upload("alice", "mypkg_1.0.tar.gz", r_package("mypkg", "1.0"))
    app.upload("alice", "hidden_1.0.tar.gz", r_package("hidden", "1.0"), access="private")
    with app.root() as root:
        indexes = root.owners["alice"].indexes
        for plugin, label in (("conda", "main"), ("pypi", "main"), ("r", "main")):
            index = indexes[plugin]
            assert isinstance(index, IndexRoot), plugin
            lab = index.labels[label]
            assert isinstance(lab, IndexSkeleton) and isinstance(lab.revision, Revision), plugin
        assert indexes["conda"].places_of("tool") == (("main", "noarch", "tool"),)
        assert indexes["pypi"].places_of("demo") == ("demo", ("main",))
        assert indexes["r"].places_of("mypkg") == ("main",)
        assert dict(indexes["r"].labels["main"].restricted.items()) == {"hidden": "hidden"}


def test_r_packages_come_from_the_document_cache_with_the_one_validator_rule(app, testapp):
    app.make_user("alice")
    app.upload("alice", "mypkg_1.0.tar.gz", r_package("mypkg", "1.0"))
    cache = app.registry.anarepo_documents
    first = testapp.get(PACKAGES)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    builds = cache.misses
    again = testapp.get(PACKAGES, headers={"Cookie": "x=1"})  # past the replay front: the view, from the cache
    assert again.body == first.body and cache.misses == builds
    testapp.get(PACKAGES, headers={"If-None-Match": first.headers["ETag"]}, status=304)
    # a private package changes nothing an anonymous reader sees: same validator, still 304
    app.upload("alice", "hidden_1.0.tar.gz", r_package("hidden", "1.0"), access="private")
    assert testapp.get(PACKAGES).headers["ETag"] == first.headers["ETag"]
    token = app.make_token("alice", "r", ["repos"])
    private = testapp.get(f"/r/t/{token}/alice/src/contrib/PACKAGES")
    assert "hidden" in private.text and private.headers["ETag"] != first.headers["ETag"]
    assert private.headers["Cache-Control"].startswith("private")
    # made public: every reader sees it, under a new validator
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("hidden"), "public")
    public = testapp.get(PACKAGES)
    assert "Package: hidden" in public.text and public.headers["ETag"] != first.headers["ETag"]
    testapp.get(PACKAGES, headers={"If-None-Match": first.headers["ETag"]}, status=200)


def test_removing_the_last_r_package_of_a_label_empties_its_places(app, testapp):
    app.make_user("alice")
    app.upload("alice", "mypkg_1.0.tar.gz", r_package("mypkg", "1.0"), labels=["dev"])
    assert "mypkg" in testapp.get("/r/alice/label/dev/src/contrib/PACKAGES").text
    with app.root() as root:
        owner = root.owners["alice"]
        remove_package(app.registry, owner.get_package("mypkg"))
    assert testapp.get("/r/alice/label/dev/src/contrib/PACKAGES").text == ""
    with app.root() as root:
        index = root.owners["alice"].indexes["r"]
        assert index.places_of("mypkg") == () and "dev" not in index.labels
