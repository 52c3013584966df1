"""Login, tokens and users: /authentications, /authentication, /scopes, /user."""
import base64
from datetime import datetime

from anarepo.testing import DEFAULT_PASSWORD


def basic(login, password=DEFAULT_PASSWORD):
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


LOGIN_BODY = {"scopes": None, "note": "binstar_client:me@box", "note_url": "http://x/api", "hostname": "box",
              "user": None, "max-age": None, "strength": "strong", "fail-if-exists": True}


def test_login_returns_a_token_that_works_and_relogin_asks_before_replacing_it(app, testapp):
    app.make_user("alice")
    first = testapp.post_json("/api/authentications", LOGIN_BODY, headers=basic("alice")).json["token"]
    assert "." not in first and "/" not in first
    assert testapp.get("/api/user", headers={"Authorization": f"token {first}"}).json["login"] == "alice"
    # same note again with fail-if-exists: 400 (the CLI asks "already logged in ... continue?"), nothing changes
    refused = testapp.post_json("/api/authentications", {**LOGIN_BODY, "fail-if-exists": True},
                                headers=basic("alice"), status=400)
    assert "exists already" in refused.json["error"]
    assert testapp.get("/api/user", headers={"Authorization": f"token {first}"}).json["login"] == "alice"
    # and without it (the CLI's "yes"): replaced
    second = testapp.post_json("/api/authentications", {**LOGIN_BODY, "fail-if-exists": False},
                               headers=basic("alice")).json["token"]
    assert second != first
    testapp.get("/api/user", headers={"Authorization": f"token {first}"}, status=401)
    # the login token also opens private conda channels (/conda/t/<token>/..., as conda sends it)
    from tests.clients.anaconda_builders import conda_tar_bz2
    from tests.conda_builders import publish_conda

    publish_conda(app, "alice", "mypkg-1.0-py_0.tar.bz2", conda_tar_bz2("mypkg", "1.0"), access="private")
    assert "mypkg" not in testapp.get("/conda/alice/noarch/repodata.json", status=(200, 404)).text
    with_token = testapp.get(f"/conda/t/{second}/alice/noarch/repodata.json").json
    assert "mypkg-1.0-py_0.tar.bz2" in with_token["packages"]


def test_wrong_password_and_bearer_are_401_and_change_nothing(app, testapp):
    app.make_user("alice")
    response = testapp.post_json("/api/authentications", LOGIN_BODY, headers=basic("alice", "wrong-password"),
                                 status=401)
    assert response.json == {"error": "invalid user name or password"}
    # a bearer that is no access token of this site's OpenID Connect provider (docs/security.md)
    bearer = testapp.post_json("/api/authentications", LOGIN_BODY, headers={"Authorization": "Bearer abc"},
                               status=401)
    assert bearer.json["error"] == "invalid access token"
    testapp.post_json("/api/authentications", LOGIN_BODY, status=401)
    with app.root() as root:
        assert len(root.tokens) == 0


def test_token_options_scopes_max_age_and_bad_input(app, testapp):
    app.make_user("alice")
    body = dict(LOGIN_BODY, note="ci", scopes=["api:read conda:download"], **{"max-age": 3600})
    token = testapp.post_json("/api/authentications", body, headers=basic("alice")).json["token"]
    listing = testapp.get("/api/authentications", headers={"Authorization": f"token {token}"}, status=403)
    assert "permission" in listing.json["error"]  # api:read may not manage tokens
    info = testapp.get("/api/authentication", headers={"Authorization": f"token {token}"}).json
    assert info["application"] == "ci" and info["scopes"] == ["api:read", "conda:download"]
    assert datetime.fromisoformat(info["expires"]).tzinfo is not None
    bad = testapp.post_json("/api/authentications", dict(body, scopes=["nope"]), headers=basic("alice"), status=400)
    assert "unknown scope" in bad.json["error"]
    testapp.post_json("/api/authentications", dict(body, **{"max-age": -5}), headers=basic("alice"), status=400)


def test_list_info_and_remove_tokens(app, testapp):
    app.make_user("alice")
    login = testapp.post_json("/api/authentications", LOGIN_BODY, headers=basic("alice")).json["token"]
    auth = {"Authorization": f"token {login}"}
    other = testapp.post_json("/api/authentications", dict(LOGIN_BODY, note="other", **{"max-age": 60}),
                              headers=basic("alice")).json["token"]
    tokens = testapp.get("/api/authentications", headers=auth).json
    assert {t["application"] for t in tokens} == {"binstar_client:me@box", "other"}
    for t in tokens:
        assert set(t) >= {"id", "application", "remote_addr", "hostname", "expires", "scopes"}
        assert t["expires"] is None or datetime.fromisoformat(t["expires"]).tzinfo is not None
    assert testapp.get("/api/authentication", headers=auth).json["application"] == "binstar_client:me@box"
    testapp.delete("/api/authentications/name/other", headers=auth, status=201)
    testapp.get("/api/user", headers={"Authorization": f"token {other}"}, status=401)
    testapp.delete("/api/authentications/name/other", headers=auth, status=404)
    testapp.delete("/api/authentications", headers=auth, status=201)  # logout
    testapp.get("/api/user", headers=auth, status=401)


def test_org_tokens_need_an_org_owner(app, testapp):
    app.make_user("alice")
    app.make_user("bob")
    app.make_org("acme", "alice")
    body = dict(LOGIN_BODY, note="orgtok", user="acme", scopes=["all"], strength="weak")
    token = testapp.post_json("/api/authentications", body, headers=basic("alice")).json["token"]
    with app.root() as root:
        assert root.owners["acme"].token_names.get("orgtok")
    denied = testapp.post_json("/api/authentications", body, headers=basic("bob"), status=403)
    assert "owners of acme" in denied.json["error"]
    testapp.post_json("/api/authentications", dict(body, user="nobody"), headers=basic("alice"), status=404)
    auth = {"Authorization": f"token {token}"}
    assert testapp.get("/api/user", headers=auth).json["login"] == "alice"
    alice_auth = {"Authorization": f"token {app.make_token('alice', 'own')}"}
    testapp.delete("/api/authentications/org/acme/name/orgtok", headers=alice_auth, status=201)
    testapp.get("/api/user", headers=auth, status=401)


def test_scopes_and_authentication_type_are_public(testapp):
    scopes = testapp.get("/api/scopes").json
    assert {"all", "api", "api:read", "api:write", "conda:download", "repos"} <= set(scopes)
    assert testapp.get("/api/authentication-type").json == {"authentication_type": "password"}
    testapp.head("/api", status=200)


def test_the_api_root_names_each_repository_face_as_its_plugin_registered_it(testapp):
    """anaconda-client reads ``conda_url`` and ``pypi_url`` from ``/api``; the
    faces declare those keys (``add_face(api_root_key=...)``), the core lists them."""
    root = testapp.get("/api").json
    assert root == {"status": "ok", "api_url": "http://localhost/api", "conda_url": "http://localhost/conda",
                    "pypi_url": "http://localhost/pypi", "main_url": "http://localhost"}


def test_user_lookups(app, testapp):
    app.make_user("alice")
    app.make_user("bob")
    app.make_org("acme", "alice")
    auth = {"Authorization": f"token {app.make_token('alice')}"}
    me = testapp.get("/api/user", headers=auth).json
    assert me["login"] == "alice" and me["user_type"] == "user" and me["created_at"]
    assert testapp.get("/api/user/acme").json["user_type"] == "org"
    assert testapp.get("/api/user/Bob").json["login"] == "bob"
    assert testapp.get("/api/user/nobody", status=404).json["error"] == "user 'nobody' not found"
    # memberships are not public (issue 14): the user sees their own, a stranger none
    assert testapp.get("/api/users/alice/orgs").json == []
    assert [o["login"] for o in testapp.get("/api/users/alice/orgs", headers=auth).json] == ["acme"]
    assert testapp.get("/api/users/bob/orgs").json == []
    assert [o["login"] for o in testapp.get("/api/user/orgs", headers=auth).json] == ["acme"]
    testapp.get("/api/user/orgs", status=401)
    testapp.get("/api/user/alice", headers={"Authorization": "token ar-" + "x" * 40}, status=401)
