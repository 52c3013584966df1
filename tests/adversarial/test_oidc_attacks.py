"""Attacks on the OpenID Connect provider (docs/security.md, "OpenID Connect provider").

Each is refused with the OAuth error the RFCs name, and nothing is issued or minted:
no code, no access-token record, no API token.  Open redirects never leave the site.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
import requests
import webtest
from joserfc import jwt
from joserfc.jwk import RSAKey

from anarepo import main
from anarepo.testing import AppHarness, make_settings
from anarepo.security.tokens import secret_digest
from tests.oidc_flow import PORTAL, PORTAL_SECRET, Flow, mint, redirect_query, signed_in, stored

REGISTERED = "http://127.0.0.1:8000/auth/oidc"


def app_with(tmp_path, **settings):
    harness = AppHarness(main({}, **make_settings(tmp_path, **settings)))
    return harness, webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})


@pytest.fixture
def browser(app, testapp):
    """``testapp`` with alice signed in (the victim's browser)."""
    signed_in(app, testapp)
    return testapp


# -- open redirects ----------------------------------------------------------------------

@pytest.mark.parametrize("redirect_uri", [
    "http://evil.example/auth/oidc",                   # another host
    "https://127.0.0.1:8000/auth/oidc",                # another scheme
    "http://127.0.0.1@evil.example/auth/oidc",         # user info: the host is evil.example
    "http://127.0.0.1:8000@evil.example/auth/oidc",
    "http://evil.example@127.0.0.1:8000/auth/oidc",    # user info before the loopback host
    "http://127.0.0.1.evil.example/auth/oidc",         # a longer host name
    "http://127.0.0.1.evil.example:8000/auth/oidc",
    "http://127.0.0.1:8000/auth/oidc#fragment",        # fragments are forbidden (RFC 6749 §3.1.2)
    "http://127.0.0.1:8000/auth/oidc?next=http://evil.example",
    "http://127.0.0.1:8000/auth/oidc/../../evil",
    "http://127.0.0.1:8000/auth/oidc%2F..%2Fevil",
    "http://127.0.0.1:8000/other",                     # another path
    "http://127.0.0.1:8000/auth/oidcx",
    "http://localhost:8000/auth/oidc",                 # not the loopback literal (RFC 8252 §8.3)
    "http://127.0.0.2:8000/auth/oidc",
    "http://[::1]:8000/auth/oidc",                     # another loopback literal than the registered one
    "http://127.0.0.1:99999/auth/oidc",                # no such port
    "http://127.0.0.1:0/auth/oidc",
    "http://127.0.0.1:80a/auth/oidc",
    "http:/127.0.0.1:8000/auth/oidc",
    "//127.0.0.1:8000/auth/oidc",
    "http://127.0.0.1:8000\\@evil.example/auth/oidc",
    " http://127.0.0.1:8000/auth/oidc",
    "http://127.0.0.1:8000/auth/oidc\n",
    "javascript:alert(1)//127.0.0.1:8000/auth/oidc",
    "",
    None,                                               # missing: required, no default
])
def test_a_redirect_uri_that_is_not_the_registered_one_never_leaves_the_site(app, browser, redirect_uri):
    flow = Flow(browser, redirect_uri=redirect_uri)
    page = flow.authorize(status=400)
    assert "Location" not in page.headers
    assert "invalid_request" in page.text and "Sign-in refused" in page.text
    assert "consent-form" not in page.text
    # the consent form with a swapped redirect_uri is refused the same way (it is validated again)
    good = Flow(browser)
    form = good.authorize().forms["consent-form"]
    form["redirect_uri"].force_value(redirect_uri or "")
    assert "Location" not in form.submit("decision", value="allow", status=400).headers
    assert stored(app) == {"codes": 0, "grants": 0, "tokens": 0}


@pytest.mark.parametrize("redirect_uri", [
    "http://127.0.0.1:8000/auth/oidc", "http://127.0.0.1:51234/auth/oidc", "http://127.0.0.1/auth/oidc",
])
def test_the_loopback_redirect_takes_any_port(app, browser, redirect_uri):
    flow = Flow(browser, redirect_uri=redirect_uri)
    response = flow.authorize().forms["consent-form"].submit("decision", value="allow", status=302)
    assert response.headers["Location"].startswith(redirect_uri + "?code=")


def test_an_unknown_client_or_duplicated_parameters_get_a_page_not_a_redirect(app, browser):
    flow = Flow(browser, client_id="no-such-client")
    page = flow.authorize(status=400)
    assert "invalid_client" in page.text and "Location" not in page.headers
    query = "&".join(f"{k}={v}" for k, v in Flow(browser).params.items())
    doubled = browser.get(f"/account/oauth/authorize?{query}&redirect_uri=http://evil.example/", status=400)
    assert "Location" not in doubled.headers and "invalid_request" in doubled.text


# -- PKCE ----------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {"code_challenge": None, "code_challenge_method": None},     # no PKCE at all
    {"code_challenge_method": None},                             # would default to plain
    {"code_challenge_method": "plain"},                          # downgrade
    {"code_challenge_method": "S512"},
    {"code_challenge": "short"},
])
def test_authorization_without_s256_pkce_is_refused(app, browser, changes):
    flow = Flow(browser)
    if changes.get("code_challenge_method") == "plain":
        changes = {**changes, "code_challenge": flow.verifier}
    query = redirect_query(flow.authorize(status=302, **changes))
    assert query["error"] == "invalid_request" and query["state"] == flow.state and "code" not in query
    assert stored(app)["codes"] == 0


@pytest.mark.parametrize("verifier,error", [
    ("x" * 64, "invalid_grant"),              # another verifier
    ("", "invalid_request"),                  # none
    ("tooshort", "invalid_request"),
])
def test_a_code_without_its_verifier_is_refused(app, browser, verifier, error):
    flow = Flow(browser)
    code = flow.code()
    answer = browser.post("/api/oauth/token", {"grant_type": "authorization_code", "client_id": flow.params[
        "client_id"], "code": code, "redirect_uri": flow.params["redirect_uri"], "code_verifier": verifier},
        status=400)
    assert answer.json["error"] == error
    assert stored(app)["grants"] == 0


def test_a_plain_challenge_of_the_verifier_itself_does_not_pass(app, browser):
    """The downgrade of RFC 9700 §4.8: the challenge was S256 of the verifier; sending the
    challenge as the verifier (what a ``plain`` attacker would know) fails."""
    flow = Flow(browser)
    code = flow.code()
    assert flow.exchange(code, status=400, verifier=flow.params["code_challenge"]).json["error"] == "invalid_grant"


# -- codes -----------------------------------------------------------------------------

def test_a_reused_code_is_refused_and_revokes_what_its_first_use_issued(app, browser):
    flow = Flow(browser)
    code = flow.code()
    first = flow.exchange(code).json["access_token"]
    api_token = mint(browser, first).json["token"]
    assert browser.get("/api/user", headers={"Authorization": f"token {api_token}"}).json["login"] == "alice"
    again = flow.exchange(code, status=400).json
    assert again["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: what the first use issued is revoked, and the API token minted with it
    assert mint(browser, first, status=401, note="later").json["error"] == "revoked access token"
    browser.get("/api/user", headers={"Authorization": f"token {api_token}"}, status=401)
    assert stored(app)["tokens"] == 0


def test_a_code_is_bound_to_its_client_and_redirect_uri(tmp_path):
    harness, testapp = app_with(tmp_path, **PORTAL)
    try:
        signed_in(harness, testapp)
        flow = Flow(testapp)
        code = flow.code()
        assert flow.exchange(code, status=400, redirect_uri="http://127.0.0.1:9/auth/oidc").json["error"] \
            == "invalid_grant"
        # the portal (authenticated with its own secret) may not redeem anaconda-client's code
        testapp.authorization = ("Basic", ("portal", PORTAL_SECRET))
        assert flow.exchange(code, status=400, client_id="portal").json["error"] == "invalid_grant"
        testapp.authorization = None
        assert stored(harness)["grants"] == 0
        flow.exchange(code)  # still good for its own client
    finally:
        harness.close()


def test_expired_codes_and_access_tokens_are_refused_and_a_late_reuse_still_revokes(tmp_path):
    harness, testapp = app_with(tmp_path, **{"anarepo.oidc.code_lifetime": "1",
                                             "anarepo.oidc.access_token_lifetime": "2"})
    try:
        signed_in(harness, testapp)
        late = Flow(testapp)
        late_code = late.code()
        flow = Flow(testapp)
        used_code = flow.code()
        with harness.root() as root:  # the browser signed in two hours before this code
            root.oidc_provider.codes[secret_digest(used_code)].auth_time -= 7200
        access = flow.exchange(used_code).json["access_token"]
        api_token = mint(testapp, access).json["token"]
        with harness.root() as root:  # the access token's record is kept as long as its code
            kept = [int(k.split(":")[0]) for k in root.oidc_provider.expiry if ":grant:" in k]
            assert kept and min(kept) >= time.time() + 3500
        time.sleep(3.1)
        assert late.exchange(late_code, status=400).json["error"] == "invalid_grant"
        assert mint(testapp, access, status=401).json["error"] == "expired access token"
        assert stored(harness)["tokens"] == 1
        # expired records are pruned when the next code is made; a used code is remembered
        # for an hour all the same, and its reuse still revokes the API token minted from it
        Flow(testapp).code()
        assert flow.exchange(used_code, status=400).json["error"] == "invalid_grant"
        testapp.get("/api/user", headers={"Authorization": f"token {api_token}"}, status=401)
        assert stored(harness)["tokens"] == 0
    finally:
        harness.close()


# -- bearer access tokens at /api/authentications --------------------------------------------

def site_key(app) -> RSAKey:
    with app.root() as root:
        state = root.oidc_provider
        return state.keys[state.current_kid].key()


def claims_of(token: str) -> tuple[dict, dict]:
    head, body, _ = token.split(".")
    pad = lambda part: base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))  # noqa: E731
    return json.loads(pad(head)), json.loads(pad(body))


def b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    """The key-confusion forgery: HMAC with the public key a verifier might take as a secret."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


@pytest.fixture
def issued(app, browser):
    """A genuine access token and ID token of alice's flow."""
    flow = Flow(browser)
    body = flow.exchange(flow.code()).json
    return body["access_token"], body["id_token"]


def test_an_id_token_is_not_an_access_token(app, browser, issued):
    _access, id_token = issued
    assert mint(browser, id_token, status=401).json["error"] == "not an access token"


def test_a_key_retired_longer_than_a_day_verifies_nothing(app, browser, issued):
    """Rotation keeps the old key verifiable for a day (as the JWKS publishes it), then
    not: a token signed with it is refused even before a later rotation deletes it."""
    from anarepo.security.oidc_provider import rotate_signing_key

    access, _ = issued
    with app.root() as root:
        old_kid = root.oidc_provider.current_kid
        rotate_signing_key(root)
    mint(browser, access, note="within the day")
    with app.root() as root:
        root.oidc_provider.keys[old_kid].retired -= 24 * 3600 + 60
    assert old_kid not in {k["kid"] for k in browser.get("/api/oauth/jwks").json["keys"]}
    assert mint(browser, access, status=401, note="after").json["error"].startswith("invalid access token")


def test_altered_or_foreign_signatures_are_refused(app, browser, issued):
    access, _ = issued
    header, claims = claims_of(access)
    head, body, signature = access.split(".")
    app.make_user("bob")
    forged_body = b64({**claims, "sub": "bob"})
    attempts = {
        "payload changed, signature kept": f"{head}.{forged_body}.{signature}",
        "signature damaged": f"{head}.{body}.{signature[:-4]}AAAA",
        "alg none": f"{b64({**header, 'alg': 'none'})}.{forged_body}.",
        "another key, same kid": jwt.encode(header, {**claims, "sub": "bob"},
                                            RSAKey.generate_key(2048, private=True), algorithms=["RS256"]),
        "HS256 keyed with the public key": hs256({**header, "alg": "HS256"}, {**claims, "sub": "bob"},
                                                 site_key(app).as_pem(private=False)),
    }
    for name, token in attempts.items():
        answer = mint(browser, token, status=401)
        assert answer.json["error"].startswith("invalid access token"), name
        assert answer.headers["WWW-Authenticate"].startswith("Bearer"), name
    assert stored(app)["tokens"] == 0
    mint(browser, access)  # the genuine one still works


def test_tokens_for_another_audience_issuer_or_client_are_refused(app, browser, issued):
    access, _ = issued
    header, claims = claims_of(access)
    key = site_key(app)
    variants = {
        "aud": {**claims, "aud": "portal"},
        "iss": {**claims, "iss": "https://other.example"},
        "client_id": {**claims, "client_id": "no-such-client"},
        "jti": {**claims, "jti": "never-issued"},
        "sub": {**claims, "sub": "nobody"},
    }
    for name, forged in variants.items():
        token = jwt.encode(header, forged, key, algorithms=["RS256"])
        assert mint(browser, token, status=401).status_int == 401, name
    assert stored(app)["tokens"] == 0
    mint(browser, jwt.encode(header, claims, key, algorithms=["RS256"]))  # the same claims, unchanged: minted


def test_another_clients_access_token_mints_nothing(tmp_path):
    harness, testapp = app_with(tmp_path, **PORTAL)
    try:
        signed_in(harness, testapp)
        flow = Flow(testapp, client_id="portal", redirect_uri="https://portal.example.org/callback")
        code = flow.code()
        testapp.authorization = ("Basic", ("portal", PORTAL_SECRET))
        access = flow.exchange(code).json["access_token"]
        testapp.authorization = None
        assert claims_of(access)[1]["aud"] == "portal"
        assert mint(testapp, access, status=401).json["error"].startswith("access token refused")
        assert stored(harness)["tokens"] == 0
    finally:
        harness.close()


def test_a_disabled_user_mints_nothing(app, browser, issued):
    access, _ = issued
    with app.root() as root:
        root.owners["alice"].disabled = True
    assert mint(browser, access, status=401).json["error"] == "invalid access token"
    assert stored(app)["tokens"] == 0


def test_an_access_token_is_no_api_credential(app, browser, issued):
    access, _ = issued
    browser.get("/api/user", headers={"Authorization": f"Bearer {access}"}, status=401)
    browser.get("/api/user", headers={"Authorization": f"token {access}"}, status=401)


# -- state: checked by the client ------------------------------------------------------------

def test_anaconda_clients_listener_refuses_a_code_with_another_state():
    """State mismatch is the client's to detect (docs/security.md): anaconda-client's own
    listener (anaconda_auth.handlers.capture_auth_code) refuses it."""
    from anaconda_auth.config import AnacondaAuthSite
    from anaconda_auth.exceptions import AuthenticationError
    from anaconda_auth.handlers import capture_auth_code

    from tests.deploy.services import free_port

    port = free_port()
    outcome = {}

    def listen():
        try:
            outcome["code"] = capture_auth_code(f"http://127.0.0.1:{port}/auth/oidc", state="expected",
                                                config=AnacondaAuthSite(domain="repo.example"))
        except AuthenticationError as exc:
            outcome["error"] = str(exc)

    thread = threading.Thread(target=listen)
    thread.start()
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/auth/oidc?code=stolen&state=forged", allow_redirects=False,
                         timeout=5)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    thread.join(10)
    assert outcome == {"error": "State does not match"}


def test_a_replayed_nonce_gets_no_second_code(app, browser):
    """A nonce is the client's binding of an ID token to one sign-in: an authorization
    request that repeats one a code was issued with is refused (OpenID Connect Core
    3.1.2.1) back to the client, nothing issued; another nonce goes on."""
    flow = Flow(browser)
    flow.code(nonce="nonce-once")
    before = stored(app)
    again = Flow(browser)
    refused = redirect_query(again.authorize(status=302, nonce="nonce-once"))
    assert refused["error"] == "invalid_request" and "code" not in refused and refused["state"] == again.state
    assert stored(app) == before
    again.code(nonce="nonce-twice")
