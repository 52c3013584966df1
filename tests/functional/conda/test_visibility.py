"""Who sees what in a conda channel: private packages only for those who may read them."""
from __future__ import annotations

import msgpack
import pytest
import zstandard

from tests.conda_builders import build_package, publish_conda


def shard_names(response) -> set:
    return set(msgpack.unpackb(zstandard.ZstdDecompressor().decompressobj().decompress(response.body))["shards"])


@pytest.fixture
def channel(app):
    app.make_user("alice")
    app.make_user("bob")
    publish_conda(app, "alice", *build_package("open", "1.0"))
    publish_conda(app, "alice", *build_package("hidden", "1.0", fmt=".conda"), access="private")
    publish_conda(app, "alice", *build_package("members", "1.0"), access="authenticated")
    return {
        "alice": app.make_token("alice", "read", scopes=["conda:download"]),
        "bob": app.make_token("bob", "read", scopes=["conda:download"]),
        "alice-pypi": app.make_token("alice", "pypi", scopes=["pypi:download"]),
    }


def names_in(doc) -> set:
    return {rec["name"] for rec in {**doc["packages"], **doc["packages.conda"]}.values()}


def test_anonymous_sees_only_public_packages(testapp, channel):
    doc = testapp.get("/conda/alice/noarch/repodata.json").json
    assert names_in(doc) == {"open"}
    assert shard_names(testapp.get("/conda/alice/noarch/repodata_shards.msgpack.zst")) == {"open"}
    assert set(testapp.get("/conda/alice/channeldata.json").json["packages"]) == {"open"}
    assert names_in(testapp.get("/conda/alice/noarch/current_repodata.json").json) == {"open"}
    testapp.get("/conda/alice/noarch/hidden-1.0-0.conda", status=404)
    testapp.get("/conda/alice/noarch/members-1.0-0.tar.bz2", status=404)


@pytest.mark.parametrize("form", ["/t/{t}/conda/alice", "/conda/t/{t}/alice"])
def test_the_owner_token_sees_everything_in_both_url_forms(testapp, channel, form):
    base = form.format(t=channel["alice"])
    doc = testapp.get(f"{base}/noarch/repodata.json").json
    assert names_in(doc) == {"open", "hidden", "members"}
    assert shard_names(testapp.get(f"{base}/noarch/repodata_shards.msgpack.zst")) == {"open", "hidden", "members"}
    assert set(testapp.get(f"{base}/channeldata.json").json["packages"]) == {"open", "hidden", "members"}
    assert testapp.get(f"{base}/noarch/hidden-1.0-0.conda").headers["Cache-Control"].startswith("private")
    index = msgpack.unpackb(zstandard.ZstdDecompressor().decompressobj().decompress(
        testapp.get(f"{base}/noarch/repodata_shards.msgpack.zst").body))
    testapp.get(f"{base}/noarch/shards/{index['shards']['hidden'].hex()}.msgpack.zst", status=200)
    testapp.get(f"/conda/alice/noarch/shards/{index['shards']['hidden'].hex()}.msgpack.zst", status=404)


def test_authorization_header_works_like_the_path_token(testapp, channel):
    doc = testapp.get("/conda/alice/noarch/repodata.json",
                      headers={"Authorization": f"token {channel['alice']}"}).json
    assert names_in(doc) == {"open", "hidden", "members"}


def test_another_user_sees_authenticated_but_not_private(testapp, channel):
    base = f"/conda/t/{channel['bob']}/alice"
    doc = testapp.get(f"{base}/noarch/repodata.json").json
    assert names_in(doc) == {"open", "members"}
    testapp.get(f"{base}/noarch/members-1.0-0.tar.bz2", status=200)
    testapp.get(f"{base}/noarch/hidden-1.0-0.conda", status=404)


def test_visibility_is_part_of_the_cache_key(testapp, channel):
    anon = testapp.get("/conda/alice/noarch/repodata.json")
    owner = testapp.get(f"/conda/t/{channel['alice']}/alice/noarch/repodata.json")
    bob = testapp.get(f"/conda/t/{channel['bob']}/alice/noarch/repodata.json")
    etags = {anon.headers["ETag"], owner.headers["ETag"], bob.headers["ETag"]}
    assert len(etags) == 3
    assert anon.headers["Cache-Control"].startswith("public")
    assert owner.headers["Cache-Control"].startswith("private")
    # an anonymous client holding the owner's ETag does not get a 304 for its own, smaller view
    again = testapp.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": owner.headers["ETag"]})
    assert again.status_int == 200 and names_in(again.json) == {"open"}
    # the rendering is not shared across requesters: anonymous again sees the public view
    assert testapp.get("/conda/alice/noarch/repodata.json").body == anon.body


def test_a_token_without_conda_scope_or_a_bad_token(testapp, channel):
    base = f"/conda/t/{channel['alice-pypi']}/alice"
    testapp.get(f"{base}/noarch/hidden-1.0-0.conda", status=404)
    testapp.get("/conda/t/ar-notatoken/alice/noarch/repodata.json", status=401)


def test_access_change_moves_a_package_in_and_out_of_public_view(app, testapp, channel):
    from anarepo.services.packages import set_access

    before = testapp.get("/conda/alice/noarch/repodata.json")
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].packages["hidden"], "public")
    after = testapp.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_int == 200 and "hidden" in names_in(after.json)
    testapp.get("/conda/alice/noarch/hidden-1.0-0.conda", status=200)
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].packages["open"], "private")
    assert names_in(testapp.get("/conda/alice/noarch/repodata.json").json) == {"hidden"}
    assert set(testapp.get("/conda/alice/channeldata.json").json["packages"]) == {"hidden"}


def test_org_group_members_see_the_org_private_packages(app, testapp):
    from anarepo.services.orgs import add_group_member, add_group_package, create_group

    app.make_user("owner1")
    app.make_user("reader")
    app.make_org("acme", "owner1")
    publish_conda(app, "acme", *build_package("internal", "1.0"), access="private")
    with app.root() as root:
        org = root.owners["acme"]
        group = create_group(org, "readers", "read")
        add_group_member(root, org, group, "reader")
        add_group_package(app.registry, org, group, "internal")
    token = app.make_token("reader", "r", scopes=["conda:download"])
    doc = testapp.get(f"/conda/t/{token}/acme/noarch/repodata.json").json
    assert names_in(doc) == {"internal"}
    assert names_in(testapp.get("/conda/acme/noarch/repodata.json").json) == set()
