"""Listings never name what the requester may not read (docs/security.md, "Listings").

Every list of every face is walked by five roles (anonymous, outsider,
read-only member, read-write member, org owner) over one organization with
secrets (:mod:`.leak_world`); lookups of a hidden group, label or project must
answer exactly as a missing one does; and refusals of a name held by a hidden
package are the upload refusal, never a 409 that reveals it.
"""
from __future__ import annotations

import pytest

from anarepo.package_types.pypi import builders
from tests.functional.api.conftest import Api

from .hostile import error_of, snapshot
from .leak_world import ROLES, Visitor, build, leaked

#: (path, what the org owner must see there: proof that the walk reaches the secret)
LISTS = [
    ("/api/search?name=zq", "zqsecret"),
    ("/api/search?name=", "zqsecret"),
    ("/api/packages/acme", "zqsecret"),
    ("/api/packages", None),
    ("/api/channels/acme", "zqhush"),
    ("/api/channels/acme/main", None),
    ("/api/groups/acme", "zqhidden"),
    ("/api/group/acme/readers", None),
    ("/api/group/acme/readers/members", None),
    ("/api/group/acme/readers/packages", None),
    ("/api/group/acme/writers/packages", None),
    ("/api/organizations/acme", "zqdana"),
    ("/api/user/orgs", None),
    ("/api/users/rita/orgs", None),
    ("/api/users/alice/orgs", None),
    ("/api/acme/notices", None),
    ("/api/authentications", None),
    ("/api/user/acme", None),
    ("/api/package/acme/open-tool", None),
    ("/api/packages/acme/open-tool/collaborators", None),
    ("/", None),
    ("/acme", "zqsecret"),
    ("/acme/label/main", "zqsecret"),
    ("/acme/labels", "zqhush"),
    ("/acme/groups", "zqhidden"),
    ("/search?q=zq", "zqsecret"),
    ("/dashboard", None),
    ("/packages", None),
    ("/projects", None),
    ("/packages/files", None),
    ("/organizations", None),
    ("/acme/open-tool", None),
    ("/acme/open-tool/files", None),
    ("/acme/open-tool/settings", None),
    ("/conda/acme/noarch/repodata.json", None),
    ("/conda/acme/noarch/current_repodata.json", None),
    ("/conda/acme/channeldata.json", None),
    ("/pypi/acme/simple/", "zqsecret"),
    ("/r/acme/src/contrib/PACKAGES", "zqsecret"),
]

#: lookups of a hidden name → the same lookup of a name that does not exist
#: (hidden name, missing name); the org owner gets 200 for the first
PROBES = [
    ("/api/channels/acme/zqhush", "/api/channels/acme/nosuchlabel"),
    ("/api/group/acme/zqhidden", "/api/group/acme/nogroup"),
    ("/api/group/acme/zqhidden/members", "/api/group/acme/nogroup/members"),
    ("/api/group/acme/zqhidden/packages", "/api/group/acme/nogroup/packages"),
    ("/api/group/acme/zqhidden/members/zqdana", "/api/group/acme/nogroup/members/zqdana"),
    ("/acme/label/zqhush", "/acme/label/nosuchlabel"),
    ("/acme/groups/zqhidden", "/acme/groups/nogroup"),
    ("/conda/acme/label/zqhush/noarch/repodata.json", "/conda/acme/label/nosuchlabel/noarch/repodata.json"),
    ("/conda/acme/label/zqhush/noarch/repodata_shards.msgpack.zst",
     "/conda/acme/label/nosuchlabel/noarch/repodata_shards.msgpack.zst"),
    ("/conda/acme/label/zqhush/channeldata.json", "/conda/acme/label/nosuchlabel/channeldata.json"),
    ("/pypi/acme/label/zqhush/simple/", "/pypi/acme/label/nosuchlabel/simple/"),
    ("/pypi/acme/simple/zqsecret-py/", "/pypi/acme/simple/nopackage/"),
    ("/r/acme/label/zqhush/src/contrib/PACKAGES", "/r/acme/label/nosuchlabel/src/contrib/PACKAGES"),
]


def _names(hidden: str, missing: str) -> tuple[str, str]:
    """The differing path segment of a probe pair."""
    for a, b in zip(hidden.split("/"), missing.split("/")):
        if a != b:
            return a, b
    raise AssertionError("a probe pair must differ")


@pytest.fixture
def world(app):
    tokens = build(app)
    return {role: Visitor(app, role, tokens[role]) for role in (*ROLES, "member")}


def test_no_list_names_a_secret_to_those_who_may_not_read_it(world):
    """The table: every list, every role.  Nobody but the org owner sees a marker;
    the owner does see each (so the walk reaches the secrets)."""
    failures = []
    for path, owner_sees in LISTS:
        for role in ROLES:
            response = world[role].get(path)
            assert response.status_int < 500, (role, path, response.status)
            found = leaked(response.text if "zst" not in path else "")
            if role == "admin":
                if owner_sees and owner_sees not in found:
                    failures.append(f"the owner does not see {owner_sees} on {path} ({response.status})")
            elif found:
                failures.append(f"{role} sees {found} on {path} ({response.status})")
    assert not failures, "\n".join(failures)


def test_a_hidden_name_answers_as_a_missing_one(world):
    """Same status and same body (names swapped) as a name that does not exist; the
    org owner, who may see it, gets it."""
    failures = []
    for hidden, missing in PROBES:
        name, other = _names(hidden, missing)
        for role in ROLES:
            got, absent = world[role].get(hidden), world[role].get(missing)
            if role == "admin":
                if not 200 <= got.status_int < 300:
                    failures.append(f"the owner gets {got.status} on {hidden}")
                continue
            same = got.status_int == absent.status_int and got.body == absent.body.replace(
                other.encode(), name.encode())
            if not same:
                failures.append(f"{role}: {hidden} → {got.status}, {missing} → {absent.status}")
    assert not failures, "\n".join(failures)


def test_a_member_sees_their_own_group_and_its_label(world):
    """zqdana, in zqhidden, reads her group's lists and the label only its packages use."""
    member = world["member"]
    assert [g["name"] for g in member.get("/api/groups/acme").json["groups"]] == ["zqhidden"]
    assert "zqsecret-conda" in member.get("/api/group/acme/zqhidden/packages").text
    assert "zqhush" in member.get("/api/channels/acme").json
    assert member.get("/acme/label/zqhush").status_int == 200
    assert "zqsecret-conda" in member.get("/conda/acme/label/zqhush/noarch/repodata.json").text
    assert [o["login"] for o in member.get("/api/user/orgs").json] == ["acme"]


def test_groups_the_reader_is_not_in_are_not_listed(world):
    """Read-only and read-write members: only their own groups, with members; the
    organization's page names no other group."""
    for role, own in (("reader", "readers"), ("writer", "writers")):
        visitor = world[role]
        assert [g["name"] for g in visitor.get("/api/groups/acme").json["groups"]] == [own]
        shown = visitor.get("/api/organizations/acme").json
        assert [g["name"] for g in shown["groups"]] == [own] and shown["owners"] == ["alice"]
        assert visitor.get("/api/group/acme/zqhidden/members").status_int == 404
    owner = world["admin"].get("/api/groups/acme").json["groups"]
    assert sorted(g["name"] for g in owner) == ["readers", "writers", "zqhidden"]


def test_memberships_are_seen_by_the_member_and_those_who_share_them(world):
    """``anaconda show USER`` lists that user's organizations: all of them to the
    user and the org's managers, the shared ones to fellow members, none to others."""
    def orgs(role, login):
        return [o["login"] for o in world[role].get(f"/api/users/{login}/orgs").json]

    assert orgs("member", "zqdana") == ["acme"]
    assert orgs("admin", "zqdana") == ["acme"]
    for role in ("anonymous", "outsider", "reader", "writer"):
        assert orgs(role, "zqdana") == [], role
        assert orgs(role, "rita") == (["acme"] if role == "reader" else []), role
    # the owners are shown to every member
    assert orgs("reader", "alice") == ["acme"] and orgs("outsider", "alice") == []


@pytest.mark.parametrize("kind", ["scope without API reads", "token of another organization"])
def test_a_token_that_adds_nothing_lists_what_an_anonymous_visitor_sees(app, world, kind):
    """zqdana's token outside its scopes or its organization makes her anonymous
    (docs/security.md, "Permissions and scopes"): her groups and memberships in
    acme are not listed to it, as they are not to an anonymous visitor."""
    if kind == "scope without API reads":
        token = app.make_token("zqdana", "pypi", scopes=["pypi:download"])
    else:
        app.make_org("zqother", "zqdana")
        token = app.make_token("zqdana", "other-org", scopes=["all"], org="zqother")
    visitor = Visitor(app, "anonymous", token)
    for path in ("/api/groups/acme", "/api/group/acme/zqhidden", "/api/group/acme/zqhidden/members",
                 "/api/users/zqdana/orgs", "/api/organizations/acme"):
        answer = visitor.get(path)
        assert not leaked(answer.text), (path, answer.status, answer.text[:200])
    # (the organization token still acts in its own organization)
    assert [o["login"] for o in visitor.get("/api/users/zqdana/orgs").json] in ([], ["zqother"])
    assert "owners" not in visitor.get("/api/organizations/acme").json  # as to a stranger


# -- 409 answers that would reveal a hidden package ---------------------------------------------
@pytest.fixture
def wade(app, world, testapp):
    """wade may create packages in acme (Read-Write group) but reads none of the secrets."""
    return Api(testapp, world["writer"].token)


def _refusal(name: str) -> str:
    return f"you do not have permission to upload {name!r} to acme"


def test_the_refusal_wording_is_the_upload_refusal(app, wade):
    """The yardstick: wade's upload into a package he may read but not write."""
    r = wade.stage("acme", "read-tool", "2", "r2.txt", b"x", status=403)
    assert error_of(r) == _refusal("read-tool")


@pytest.mark.parametrize("name", ["zqsecret-conda", "ZQsecret-conda", "zqsecret_py", "zqsecret.py"])
def test_creating_a_hidden_name_is_the_upload_refusal(app, wade, name):
    before = snapshot(app)
    r = wade.post(f"/package/acme/{name}", {"public": True}, status=403)
    assert error_of(r) == _refusal(name)
    assert snapshot(app) == before


def test_the_owner_still_hears_of_the_conflict(app, world, testapp):
    """Who may see the package keeps the informative 409."""
    alice = Api(testapp, world["admin"].token)
    assert "exists already" in error_of(alice.post("/package/acme/zqsecret-conda", {}, status=409))
    assert "one project on PyPI" in error_of(alice.post("/package/acme/zqsecret_py", {}, status=409))


@pytest.mark.parametrize("name", ["zqsecret-conda", "zqsecret_py"])
def test_transferring_onto_a_hidden_name_is_the_upload_refusal(app, wade, name):
    if name.endswith("_py"):
        app.upload("wade", *builders.wheel(name, "1.0"))
    else:
        app.publish_file("wade", name, "1", "w.txt", b"w")
    before = snapshot(app)
    r = wade.post(f"/package/wade/{name}/transfer", {"to_owner": "acme"}, status=403)
    assert error_of(r) == _refusal(name)
    assert snapshot(app) == before


@pytest.mark.parametrize("name", ["zqsecret-py", "zqsecret_py"])
def test_copying_onto_a_hidden_name_is_the_upload_refusal(app, wade, name):
    fn, data = builders.wheel(name, "1.0")
    app.upload("wade", fn, data)
    before = snapshot(app)
    r = wade.post(f"/copy/package/wade/{name}/1.0/{fn}", {"to_owner": "acme"}, status=403)
    assert error_of(r) == _refusal(name)
    assert snapshot(app) == before


def test_uploading_a_hidden_pypi_twin_is_the_upload_refusal(app, wade):
    """``anaconda upload`` of a wheel whose PEP 503 name a hidden package holds."""
    fn, data = builders.wheel("zqsecret_py", "2.0")
    before = snapshot(app)
    r = wade.stage("acme", "zqsecret_py", "2.0", fn, data, dtype="pypi", status=403)
    assert error_of(r) == _refusal("zqsecret_py")
    assert snapshot(app) == before


def test_web_upload_and_transfer_refusals_do_not_name_the_hidden_package(app, world):
    from anarepo.testing import csrf_from

    web = world["writer"].web
    fn, data = builders.wheel("zqsecret_py", "3.0")
    before = snapshot(app)
    page = web.get("/upload")
    r = web.post("/upload", {"csrf_token": csrf_from(page), "owner": "acme", "access": "public"},
                 upload_files=[("file", fn, data)], status=403)
    assert "one project" not in r.text and "zqsecret-py" not in r.text
    assert "you do not have permission to upload &#39;zqsecret_py&#39; to acme" in r.text
    assert snapshot(app) == before
    app.publish_file("wade", "zqsecret-conda", "1", "w.txt", b"w")
    before = snapshot(app)
    page = web.get("/wade/zqsecret-conda/settings/admin")
    r = web.post("/wade/zqsecret-conda/settings/admin",
                 {"csrf_token": csrf_from(page), "action": "transfer", "owner": "acme"}, status=403)
    assert "exists" not in r.text and "already has" not in r.text
    assert "you do not have permission to upload &#39;zqsecret-conda&#39; to acme" in r.text
    assert snapshot(app) == before
