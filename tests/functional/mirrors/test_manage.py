"""Managing sources: the API (traversal, permission=manage) and the web Mirrors page (CSRF)."""
from __future__ import annotations

import json

import pytest

from anarepo.testing import csrf_from, web_login


def auth(token):
    return {"Authorization": f"token {token}"}


@pytest.fixture
def tokens(mirror_app):
    mirror_app.make_org("acme", "alice")
    return {"alice": mirror_app.make_token("alice", "all"), "bob": mirror_app.make_token("bob", "all"),
            "read": mirror_app.make_token("alice", "read", scopes=["api:read"])}


def test_api_add_list_show_change_sync_remove(mirror_app, testapp, tokens, conda_upstream):
    body = {"name": "forge", "kind": "conda", "url": conda_upstream.url, "mode": "mirror", "label": "forge",
            "subdirs": ["noarch"], "filters": {"names": ["tool"], "latest": 2},
            "auth": {"kind": "bearer", "secret": "upstream-s3cret"}}
    created = testapp.post("/api/sources/acme", json.dumps(body), headers=auth(tokens["alice"]), status=201)
    assert created.json["auth"] == "bearer" and "s3cret" not in created.text
    listed = testapp.get("/api/sources/acme", headers=auth(tokens["alice"]))
    assert [s["name"] for s in listed.json["sources"]] == ["forge"] and "s3cret" not in listed.text
    run = testapp.post("/api/sources/acme/forge/sync", headers=auth(tokens["alice"])).json
    assert (run["added"], run["failed"]) == (2, 0)
    shown = testapp.get("/api/sources/acme/forge", headers=auth(tokens["alice"])).json
    assert shown["files"] == 2 and shown["history"][-1]["added"] == 2
    changed = testapp.patch("/api/sources/acme/forge", json.dumps({"filters": {"names": ["tool"], "latest": 1},
                                                                  "remove_missing": True}),
                            headers=auth(tokens["alice"])).json
    assert changed["filters"] == {"names": ["tool"], "latest": 1}
    again = testapp.post("/api/sources/acme/forge/sync", headers=auth(tokens["alice"])).json
    assert (again["added"], again["removed"]) == (0, 1)
    testapp.delete("/api/sources/acme/forge", headers=auth(tokens["alice"]))
    assert testapp.get("/api/sources/acme", headers=auth(tokens["alice"])).json["sources"] == []
    assert testapp.get("/api/package/acme/tool").json["versions"] == ["3.0"]  # what it brought stays


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/sources/acme", None),
    ("POST", "/api/sources/acme", {"name": "x", "kind": "conda", "url": "http://127.0.0.1:9/"}),
    ("GET", "/api/sources/acme/up", None),
    ("PATCH", "/api/sources/acme/up", {"ttl": 5}),
    ("DELETE", "/api/sources/acme/up", None),
    ("POST", "/api/sources/acme/up/sync", None),
])
def test_api_refuses_everyone_but_the_owners_admins(mirror_app, testapp, tokens, method, path, body):
    from .conftest import add

    add(mirror_app, owner="acme", name="up", url="http://127.0.0.1:9/")
    data = json.dumps(body) if body is not None else ""
    anonymous = testapp.request(path, method=method, body=data.encode(), expect_errors=True)
    assert anonymous.status_int == 401 and "error" in anonymous.json
    other = testapp.request(path, method=method, body=data.encode(), headers=auth(tokens["bob"]), expect_errors=True)
    assert other.status_int == 403 and "error" in other.json
    if method != "GET":
        scoped = testapp.request(path, method=method, body=data.encode(), headers=auth(tokens["read"]),
                                 expect_errors=True)
        assert scoped.status_int in (401, 403)
    with mirror_app.root() as root:
        sources = root.owners["acme"].sources
        assert list(sources) == ["up"] and sources["up"].ttl == 600 and not len(sources["up"].history)


@pytest.mark.parametrize("body,message", [
    ({"name": "x", "kind": "npm", "url": "http://h/"}, "kind"),
    ({"name": "x", "kind": "conda", "url": "file:///etc/"}, "http(s)"),
    ({"name": "-x", "kind": "conda", "url": "http://h/"}, "source name"),
    ({"name": "x\n", "kind": "conda", "url": "http://h/"}, "source name"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "filters": {"specs": ["a*"]}}, "match spec"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "subdirs": ["mars-64"]}, "subdirs"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "subdirs": ["../etc"]}, "subdirs"),
    ({"name": "x", "kind": "pypi", "url": "http://h/", "subdirs": ["noarch"]}, "conda channels"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "ttl": "soon"}, "ttl"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "auth": {"kind": "basic"}}, "secret"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "auth": {"kind": "token", "secret": 123}}, "secret"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "auth": {"kind": "basic", "secret": "s", "user": 5}}, "user"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "auth": {"kind": "bearer", "secret": "s\r\nX-A: 1"}},
     "secret"),
    ({"name": "x", "kind": "conda", "url": "http://[::1/"}, "http(s)"),
    ({"name": "x", "kind": "conda", "url": "http://h:99999/"}, "http(s)"),
    ({"name": "x", "kind": "conda", "url": "http://h/", "bogus": 1}, None),
])
def test_api_refuses_bad_definitions_and_changes_nothing(mirror_app, testapp, tokens, body, message):
    response = testapp.post("/api/sources/acme", json.dumps(body), headers=auth(tokens["alice"]), expect_errors=True)
    if message is None:  # unknown keys are ignored, the rest is valid
        assert response.status_int == 201
        return
    assert response.status_int == 400 and message in response.json["error"], response.text
    with mirror_app.root() as root:
        assert len(root.owners["acme"].sources) == 0


def test_api_unknown_owner_or_source_is_404(testapp, tokens):
    assert testapp.get("/api/sources/nobody", headers=auth(tokens["alice"]), status=404).json["error"]
    assert testapp.get("/api/sources/acme/none", headers=auth(tokens["alice"]), status=404).json["error"]


def test_web_mirrors_page_add_sync_history_remove(mirror_app, testapp, conda_upstream):
    web_login(testapp, "alice")
    page = testapp.get("/alice/mirrors")
    assert "No sources yet" in page.text
    added = testapp.post("/alice/mirrors", {
        "csrf_token": csrf_from(page), "action": "add", "name": "forge", "kind": "conda", "url": conda_upstream.url,
        "mode": "mirror", "label": "main", "subdirs": "noarch", "filters": "names=tool\nlatest=1",
        "auth": "bearer", "secret": "web-s3cret"}, status=302)
    page = added.follow()
    assert "forge" in page.text and "names=tool" in page.text and "s3cret" not in page.text
    synced = testapp.post("/alice/mirrors", {"csrf_token": csrf_from(page), "action": "sync", "source": "forge"},
                          status=302).follow()
    assert "Synced forge: added 1" in synced.text
    assert synced.html.select_one('[data-source="forge"] .last-sync').text.strip().endswith("failed 0")
    assert len(synced.html.select('[data-source="forge"] table.history tbody tr')) == 1
    # a forged form (no CSRF token) changes nothing
    testapp.post("/alice/mirrors", {"action": "remove", "source": "forge"}, status=400)
    removed = testapp.post("/alice/mirrors", {"csrf_token": csrf_from(synced), "action": "remove",
                                              "source": "forge"}, status=302).follow()
    assert "No sources yet" in removed.text


def test_web_mirrors_page_is_for_admins_only(mirror_app, testapp):
    testapp.get("/alice/mirrors", status=302)  # anonymous: to the login page
    web_login(testapp, "bob")
    testapp.get("/alice/mirrors", status=403)


def test_web_add_refusal_shows_the_error(mirror_app, testapp):
    web_login(testapp, "alice")
    page = testapp.get("/alice/mirrors")
    refused = testapp.post("/alice/mirrors", {"csrf_token": csrf_from(page), "action": "add", "name": "x",
                                              "kind": "conda", "url": "ftp://nope/"}, status=400)
    assert "http(s) URL" in refused.text


def test_no_package_can_take_the_mirrors_page_name(mirror_app, testapp, tokens, pypi_upstream):
    """``/<owner>/mirrors`` is the owner's Mirrors page: a package named ``mirrors`` (any
    case) would shadow it or be shadowed by it, so none can be made — by an upload, the
    API or a source bringing one — and nothing is stored."""
    from anarepo.package_types.pypi import builders
    from tests.functional.api.conftest import Api

    from .conftest import add, sync

    api = Api(testapp, tokens["alice"])
    for name in ("mirrors", "Mirrors"):
        refused = api.post(f"/package/alice/{name}", {"summary": "x"}, status=400)
        assert "reserved" in refused.json["error"]
        refused = api.stage("alice", name, "1.0", "m.txt", b"x", status=400)
        assert "reserved" in refused.json["error"]
    add(mirror_app, name="up", kind="pypi", url=pypi_upstream.url, filters={"names": ["demo"]})
    with pytest.raises(ValueError, match="reserved"):  # the operator's upload path too
        mirror_app.upload("alice", *builders.wheel("mirrors", "1.0"))
    with mirror_app.root() as root:
        assert root.owners["alice"].get_package("mirrors") is None
    web_login(testapp, "alice")
    assert "Mirrors" in testapp.get("/alice/mirrors").text and "up" in testapp.get("/alice/mirrors").text
    assert sync(mirror_app)["failed"] == 0


def test_a_change_to_unknown_subdirs_is_refused_and_changes_nothing(mirror_app, testapp, tokens):
    """The conda type says which subdirs exist (its upstream_records.scopes); the API asks it."""
    created = testapp.post("/api/sources/acme", json.dumps({"name": "x", "kind": "conda", "url": "http://h/"}),
                           headers=auth(tokens["alice"]))
    assert created.json["subdirs"] == []
    refused = testapp.patch("/api/sources/acme/x", json.dumps({"subdirs": ["noarch", "mars-64"]}),
                            headers=auth(tokens["alice"]), status=400)
    assert "subdirs" in refused.json["error"]
    changed = testapp.patch("/api/sources/acme/x", json.dumps({"subdirs": ["linux-64"]}), headers=auth(tokens["alice"]))
    assert changed.json["subdirs"] == ["linux-64"]
