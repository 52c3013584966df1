"""anarepo as an OpenID Connect provider: discovery, the browser flow of ``anaconda login``
(login form, consent, code, PKCE exchange), and ``/api/authentications`` minting the usual
API token from the access token.  Attacks on it: tests/adversarial/test_oidc_attacks.py."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from anarepo.security.oidc_provider import ANACONDA_CLIENT_ID, rotate_signing_key
from anarepo.testing import csrf_from, make_settings
from tests.oidc_flow import PORTAL, PORTAL_SECRET, Flow, mint, redirect_query, signed_in, stored


def keyset(testapp) -> KeySet:
    return KeySet.import_key_set(testapp.get("/api/oauth/jwks").json)


def test_discovery_names_the_endpoints_and_only_s256(testapp):
    doc = testapp.get("/.well-known/openid-configuration").json
    assert doc["issuer"] == "http://localhost"
    assert doc["authorization_endpoint"] == "http://localhost/account/oauth/authorize"
    assert doc["token_endpoint"] == "http://localhost/api/oauth/token"
    assert doc["jwks_uri"] == "http://localhost/api/oauth/jwks"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert "none" in doc["token_endpoint_auth_methods_supported"]  # anaconda-client is a public client
    keys = testapp.get(doc["jwks_uri"]).json["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and "d" not in keys[0]  # public half only


def test_anaconda_login_flow_from_no_session_to_an_api_token(app, testapp):
    app.make_user("alice")
    flow = Flow(testapp)
    # no session: the authorization endpoint sends the browser to the login form, and back
    to_login = flow.authorize(status=302)
    assert to_login.headers["Location"].startswith("http://localhost/account/login?came_from=")
    login_page = to_login.follow()
    form = [f for f in login_page.forms.values() if f.action.endswith("/account/login")][0]
    form["login"] = "alice"
    form["password"] = "correct-horse-battery"
    back = form.submit(status=302)
    assert back.headers["Location"].startswith("http://localhost/account/oauth/authorize?")
    consent = back.follow()
    assert "Allow anaconda-client to sign in as alice?" in consent.text
    assert "127.0.0.1:8000" in consent.text
    # the consent page may send its form on to the client's loopback listener (CSP form-action)
    assert "form-action 'self' http://127.0.0.1:8000" in consent.headers["Content-Security-Policy"]
    query = redirect_query(consent.forms["consent-form"].submit("decision", value="allow", status=302))
    assert set(query) == {"code", "state"} and query["state"] == flow.state
    tokens = flow.exchange(query["code"])
    assert tokens.headers["Cache-Control"] == "no-store"
    body = tokens.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and "refresh_token" not in body
    assert body["scope"] == "openid email profile"  # offline_access is not granted
    access = jwt.decode(body["access_token"], keyset(testapp), algorithms=["RS256"])
    assert access.header["typ"] == "at+jwt"
    assert access.claims["aud"] == "http://localhost/api" and access.claims["sub"] == "alice"
    assert access.claims["exp"] - access.claims["iat"] == 300
    id_token = jwt.decode(body["id_token"], keyset(testapp), algorithms=["RS256"])
    assert id_token.claims["aud"] == [ANACONDA_CLIENT_ID] and id_token.claims["iss"] == "http://localhost"
    assert id_token.claims["email"] == "alice@example.com"
    # what binstar_client's bearer_authentication sends: the usual API token comes back
    minted = mint(testapp, body["access_token"], note="binstar_client:alice@box").json
    assert minted["name"] == "binstar_client:alice@box"
    user = testapp.get("/api/user", headers={"Authorization": f"token {minted['token']}"}).json
    assert user["login"] == "alice"
    info = testapp.get("/api/authentication", headers={"Authorization": f"token {minted['token']}"}).json
    assert info["scopes"] == ["all"]


def test_auth_create_mints_scoped_and_org_tokens_from_an_access_token(app, testapp):
    signed_in(app, testapp)
    app.make_org("team", "alice")
    flow = Flow(testapp)
    access = flow.exchange(flow.code()).json["access_token"]
    # what `anaconda auth --create -n ci --scopes "api:read" --max-age 3600 --org team` sends
    created = mint(testapp, access, note="ci", scopes=["api:read"], user="team", **{"max-age": 3600,
                                                                                   "fail-if-exists": True}).json
    info = testapp.get("/api/authentication", headers={"Authorization": f"token {created['token']}"}).json
    assert info["scopes"] == ["api:read"] and info["expires"]
    # fail-if-exists on a taken name: 400, as with a password
    again = mint(testapp, access, status=400, note="ci", user="team", **{"fail-if-exists": True})
    assert "exists already" in again.json["error"]


def test_a_signed_in_browser_only_confirms_and_deny_tells_the_client(app, testapp):
    signed_in(app, testapp)
    flow = Flow(testapp)
    denied = flow.consent(decision="deny")
    assert denied["error"] == "access_denied" and denied["state"] == flow.state and "code" not in denied
    assert stored(app)["codes"] == 0


def test_consent_needs_the_session_csrf_token(app, testapp):
    signed_in(app, testapp)
    flow = Flow(testapp)
    page = flow.authorize()
    form = page.forms["consent-form"]
    fields = {name: form[name].value for name in form.fields if name not in ("csrf_token", "decision")}
    testapp.post("/account/oauth/authorize", {**fields, "decision": "allow"}, status=400)
    testapp.post("/account/oauth/authorize", {**fields, "decision": "allow", "csrf_token": "forged"}, status=400)
    assert stored(app)["codes"] == 0
    assert csrf_from(page)  # the real form carries it


def test_prompt_none_without_a_session_answers_login_required(app, testapp):
    flow = Flow(testapp)
    response = flow.authorize(status=302, prompt="none")
    query = redirect_query(response)
    assert query["error"] == "login_required" and query["state"] == flow.state and "code" not in query


def id_token_of(testapp, flow, code) -> dict:
    return jwt.decode(flow.exchange(code).json["id_token"], keyset(testapp), algorithms=["RS256"]).claims


def sign_in_on_the_login_form(to_login):
    """Follow the authorization endpoint's redirect to the login form, sign in as
    alice and come back; the consent page."""
    assert to_login.headers["Location"].startswith("http://localhost/account/login?came_from=")
    page = to_login.follow()
    form = [f for f in page.forms.values() if f.action.endswith("/account/login")][0]
    form["login"], form["password"] = "alice", "correct-horse-battery"
    back = form.submit(status=302)
    assert back.headers["Location"].startswith("http://localhost/account/oauth/authorize?")
    return back.follow()


def test_the_id_tokens_auth_time_is_when_the_user_signed_in(app, testapp):
    signed_in(app, testapp)
    signed = int(time.time())
    time.sleep(2.1)
    flow = Flow(testapp)
    claims = id_token_of(testapp, flow, flow.code(nonce="n-auth-time"))
    assert signed - 1 <= claims["auth_time"] <= signed and claims["iat"] >= signed + 2


def test_prompt_login_asks_a_signed_in_browser_to_sign_in_again(app, testapp):
    signed_in(app, testapp)
    first = int(time.time())
    time.sleep(1.1)
    flow = Flow(testapp)
    to_login = flow.authorize(status=302, prompt="login", nonce="n-prompt-login")
    came_from = parse_qs(urlsplit(to_login.headers["Location"]).query)["came_from"][0]
    assert "prompt=login" not in came_from and "login_after=" in came_from  # no loop after the login
    consent = sign_in_on_the_login_form(to_login)
    query = redirect_query(consent.forms["consent-form"].submit("decision", value="allow", status=302))
    claims = id_token_of(testapp, flow, query["code"])
    assert claims["auth_time"] > first and claims["nonce"] == "n-prompt-login"


def test_max_age_allows_a_recent_sign_in_and_asks_an_older_one_to_sign_in_again(app, testapp):
    signed_in(app, testapp)
    signed = int(time.time())
    time.sleep(2.1)
    flow = Flow(testapp)
    assert "consent-form" in flow.authorize(max_age="3600").forms  # recent enough
    to_login = flow.authorize(status=302, max_age="1")
    consent = sign_in_on_the_login_form(to_login)
    query = redirect_query(consent.forms["consent-form"].submit("decision", value="allow", status=302))
    assert id_token_of(testapp, flow, query["code"])["auth_time"] > signed
    refused = redirect_query(flow.authorize(status=302, max_age="soon"))
    assert refused["error"] == "invalid_request" and refused["state"] == flow.state


def test_prompt_none_never_shows_a_page_to_a_signed_in_browser(app, testapp):
    signed_in(app, testapp)
    time.sleep(1.1)
    flow = Flow(testapp)
    for changes, error in (({"prompt": "none"}, "consent_required"),
                           ({"prompt": "none", "max_age": "0"}, "login_required")):
        query = redirect_query(flow.authorize(status=302, **changes))
        assert query["error"] == error and query["state"] == flow.state and "code" not in query
    assert stored(app)["codes"] == 0


def test_a_token_is_no_web_session_for_the_authorization_endpoint(app, testapp):
    app.make_user("alice")
    token = app.make_token("alice")
    flow = Flow(testapp)
    response = testapp.get(f"/t/{token}/account/oauth/authorize", flow.params, status=302)
    assert "/account/login" in response.headers["Location"]


@pytest.fixture
def portal_app(tmp_path):
    from anarepo import main
    from anarepo.testing import AppHarness

    harness = AppHarness(main({}, **make_settings(tmp_path, **PORTAL)))
    yield harness
    harness.close()


def test_a_registered_web_client_gets_identity_with_groups_but_no_api_access(portal_app):
    import webtest

    testapp = webtest.TestApp(portal_app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    signed_in(portal_app, testapp)
    portal_app.make_org("team", "alice")
    with portal_app.root() as root:
        from anarepo.resources.owners import Group

        team = root.owners["team"]
        team.groups.add("devs", Group("devs", "write"))
        team.groups["devs"].members.add("alice")
    flow = Flow(testapp, client_id="portal", redirect_uri="https://portal.example.org/callback",
                scope="openid profile email groups")
    code = flow.code(nonce="n-0S6_WzA2Mj")
    # a confidential client authenticates; without its secret: invalid_client
    refused = flow.exchange(code, status=401)
    assert refused.json["error"] == "invalid_client"
    testapp.authorization = ("Basic", ("portal", PORTAL_SECRET))
    body = flow.exchange(code).json
    testapp.authorization = None
    id_token = jwt.decode(body["id_token"], keyset(testapp), algorithms=["RS256"]).claims
    assert id_token["aud"] == ["portal"] and id_token["nonce"] == "n-0S6_WzA2Mj"
    assert id_token["groups"] == ["team/devs"] and id_token["organizations"] == ["team"]
    info = testapp.get("/api/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).json
    assert info["sub"] == "alice" and info["groups"] == ["team/devs"]
    # its access token is for the portal, not the API: /authentications refuses it (token substitution)
    refused = mint(testapp, body["access_token"], status=401)
    assert "refused" in refused.json["error"] or "API" in refused.json["error"]
    assert stored(portal_app)["tokens"] == 0


def test_key_rotation_keeps_older_tokens_verifiable(app, testapp):
    signed_in(app, testapp)
    old_flow = Flow(testapp)
    old = old_flow.exchange(old_flow.code()).json["access_token"]
    with app.root() as root:
        new_kid = rotate_signing_key(root)
    keys = testapp.get("/api/oauth/jwks").json["keys"]
    assert len(keys) == 2 and new_kid in {k["kid"] for k in keys}
    flow = Flow(testapp)
    new = flow.exchange(flow.code()).json["access_token"]
    assert jwt.decode(new, keyset(testapp), algorithms=["RS256"]).header["kid"] == new_kid
    mint(testapp, old, note="old")
    mint(testapp, new, note="new")


def test_provider_off_keeps_the_answer_that_sends_anaconda_client_to_the_password_login(tmp_path):
    from anarepo import main
    from anarepo.testing import AppHarness

    import webtest

    harness = AppHarness(main({}, **make_settings(tmp_path, **{"anarepo.oidc.enabled": "false"})))
    try:
        testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        testapp.get("/.well-known/openid-configuration", status=404)
        testapp.get("/api/oauth/jwks", status=404)
        answer = mint(testapp, "a.b.c", status=401).json
        assert answer["error"] == "Bearer token authentication is not enabled"
    finally:
        harness.close()


def test_login_success_page_for_the_client_listener(testapp):
    assert "You are signed in" in testapp.get("/app/local-login-success").text
    assert "did not complete" in testapp.get("/app/local-login-error", status=400).text


def test_a_database_from_before_the_provider_evolves_and_serves_the_flow(tmp_path):
    """The legacy fixture (tests/functional/test_legacy_database.py) gets the provider's state."""
    import tarfile

    import webtest

    from anarepo import main
    from anarepo.testing import AppHarness
    from tests.functional.test_legacy_database import FIXTURE

    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    harness = AppHarness(main({}, **make_settings(tmp_path)))
    try:
        with harness.root() as root:
            assert "security.oidc-provider-1" in root.finished_evolve_steps
            assert "security.oidc-nonces-1" in root.finished_evolve_steps
            assert "security.oidc-refresh-1" in root.finished_evolve_steps
            assert len(root.oidc_provider.refresh_tokens) == 0
            assert len(root.oidc_provider.keys) == 0  # made on first use
            assert len(root.oidc_provider.nonces) == 0
        testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        signed_in(harness, testapp, "newcomer")
        flow = Flow(testapp)
        mint(testapp, flow.exchange(flow.code()).json["access_token"])
    finally:
        harness.close()


def test_cli_rotates_the_signing_key(tmp_path):
    from tests.functional.test_cli import REPO, run

    ini = tmp_path / "development.ini"
    ini.write_text((REPO / "development.ini").read_text())
    first = run("-c", str(ini), "oidc", "rotate-key")
    second = run("-c", str(ini), "oidc", "rotate-key")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.startswith("new signing key ") and first.stdout != second.stdout


# -- refresh tokens (clients registered with refresh_tokens) ---------------------------------

@pytest.fixture
def refreshing(tmp_path):
    """The portal with refresh tokens; alice signed in on its browser."""
    import webtest

    from anarepo import main
    from anarepo.testing import AppHarness

    harness = AppHarness(main({}, **make_settings(tmp_path, **PORTAL,
                                                  **{"anarepo.oidc.client.portal.refresh_tokens": "true"})))
    testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    signed_in(harness, testapp)
    yield harness, testapp
    harness.close()


def portal_tokens(testapp, status=200, **form):
    """The portal at the token endpoint (it authenticates with its secret)."""
    testapp.authorization = ("Basic", ("portal", PORTAL_SECRET))
    try:
        return testapp.post("/api/oauth/token", form, status=status)
    finally:
        testapp.authorization = None


def portal_sign_in(testapp) -> dict:
    flow = Flow(testapp, client_id="portal", redirect_uri="https://portal.example.org/callback",
                scope="openid profile")
    return portal_tokens(testapp, grant_type="authorization_code", code=flow.code(),
                         redirect_uri=flow.params["redirect_uri"], code_verifier=flow.verifier).json


def userinfo(testapp, access, status=200):
    return testapp.get("/api/oauth/userinfo", headers={"Authorization": f"Bearer {access}"}, status=status)


def test_refresh_tokens_rotate_and_are_stored_hashed(refreshing):
    harness, testapp = refreshing
    assert "refresh_token" in testapp.get("/.well-known/openid-configuration").json["grant_types_supported"]
    first = portal_sign_in(testapp)
    with harness.root() as root:
        stored_keys = set(root.oidc_provider.refresh_tokens)
    assert first["refresh_token"] not in stored_keys and len(stored_keys) == 1  # its sha256 only
    second = portal_tokens(testapp, grant_type="refresh_token", refresh_token=first["refresh_token"]).json
    assert second["refresh_token"] != first["refresh_token"] and second["scope"] == "openid profile"
    assert userinfo(testapp, second["access_token"]).json["sub"] == "alice"
    # another client, or a wider scope, is refused
    refused = portal_tokens(testapp, status=400, grant_type="refresh_token", refresh_token=second["refresh_token"],
                            scope="openid profile groups")
    assert refused.json["error"] == "invalid_scope"
    third = portal_tokens(testapp, grant_type="refresh_token", refresh_token=second["refresh_token"]).json
    assert userinfo(testapp, third["access_token"]).json["sub"] == "alice"


def test_a_rotated_refresh_token_used_again_ends_its_whole_family(refreshing):
    """Two holders of one refresh token (one of them a thief): the second use is refused
    and every token of the family dies, the thief's and the client's alike."""
    harness, testapp = refreshing
    first = portal_sign_in(testapp)
    second = portal_tokens(testapp, grant_type="refresh_token", refresh_token=first["refresh_token"]).json
    replayed = portal_tokens(testapp, status=400, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replayed.json["error"] == "invalid_grant"
    again = portal_tokens(testapp, status=400, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert again.json["error"] == "invalid_grant"
    userinfo(testapp, second["access_token"], status=401)
    userinfo(testapp, first["access_token"], status=401)


def test_logging_out_everywhere_ends_refresh_tokens_and_web_clients_get_none_by_default(refreshing):
    harness, testapp = refreshing
    tokens = portal_sign_in(testapp)
    page = testapp.get("/account/settings")
    testapp.post("/account/logout", {"csrf_token": csrf_from(page)}, status=302)  # ends every session
    refused = portal_tokens(testapp, status=400, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refused.json["error"] == "invalid_grant"


def test_clients_without_refresh_tokens_get_none_and_may_not_refresh(app, testapp):
    signed_in(app, testapp)
    flow = Flow(testapp)
    body = flow.exchange(flow.code()).json
    assert "refresh_token" not in body
    refused = testapp.post("/api/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x" * 43,
                                                "client_id": ANACONDA_CLIENT_ID}, status=400)
    assert refused.json["error"] == "unauthorized_client"
    with app.root() as root:
        assert len(root.oidc_provider.refresh_tokens) == 0


def test_a_reused_code_ends_the_refresh_tokens_of_its_first_use_and_the_family_expires(refreshing):
    harness, testapp = refreshing
    flow = Flow(testapp, client_id="portal", redirect_uri="https://portal.example.org/callback", scope="openid")
    code = flow.code()
    exchange = dict(grant_type="authorization_code", code=code, redirect_uri=flow.params["redirect_uri"],
                    code_verifier=flow.verifier)
    tokens = portal_tokens(testapp, **exchange).json
    assert portal_tokens(testapp, status=400, **exchange).json["error"] == "invalid_grant"
    refused = portal_tokens(testapp, status=400, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refused.json["error"] == "invalid_grant"
    # a family lives refresh_token_lifetime from the sign-in, whatever the rotations
    later = portal_sign_in(testapp)
    with harness.root() as root:
        for record in root.oidc_provider.refresh_tokens.values():
            record.family.expires = time.time() - 1
    refused = portal_tokens(testapp, status=400, grant_type="refresh_token", refresh_token=later["refresh_token"])
    assert refused.json["error"] == "invalid_grant"
