"""The upstream OpenID Connect client refuses every answer it must not believe: a token
from another issuer, for another audience, expired, badly signed, unsigned or
HMAC-signed with the public key, with another nonce; a callback with another state,
a replayed callback; and it provisions nothing when it refuses.  The provider is
scripted (tests/oidc_upstream.py) so that each answer is wrong in exactly one way."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
import webtest
from joserfc.jwk import RSAKey

from anarepo import main
from anarepo.testing import AppHarness, make_settings

from ..oidc_upstream import CLIENT_ID, CLIENT_SECRET, ScriptedProvider


@pytest.fixture(scope="module")
def provider():
    scripted = ScriptedProvider()
    yield scripted
    scripted.stop()


@pytest.fixture
def consumer(tmp_path, provider):
    made = []

    def make(**extra):
        settings = make_settings(tmp_path / f"c{len(made)}", **{
            "anarepo.login.oidc.issuer": provider.issuer,
            "anarepo.login.oidc.client_id": CLIENT_ID,
            "anarepo.login.oidc.client_secret": CLIENT_SECRET,
            "anarepo.login.oidc.title": "Example IdP",
            "anarepo.login.oidc.group_map": "engineering -> corp/engineers",
            **extra})
        harness = AppHarness(main({}, **settings))
        made.append(harness)
        return harness, webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})

    provider.discovery_issuer = None
    provider.discovery_changes = {}
    provider.userinfo = None
    provider.published = [provider.key]
    yield make
    for harness in made:
        harness.close()


def begin(testapp, came_from="") -> dict:
    response = testapp.get("/account/login/oidc", {"came_from": came_from} if came_from else {}, status=302)
    return {k: v[0] for k, v in parse_qs(urlparse(response.location).query).items()}


def flow(testapp, provider, make_token=None, came_from="", **changes):
    """Start a sign-in and have the provider issue a code for an ID token: the right
    claims with ``changes``, signed with its key, or ``make_token(claims)``.
    Returns ``(authorization request, code)``."""
    request = begin(testapp, came_from)
    claims = provider.claims(request, **changes)
    return request, provider.issue(request, make_token(claims) if make_token else provider.sign(claims))


def callback(testapp, **params):
    return testapp.get("/account/login/oidc/callback", params, status="*")


def owners(harness):
    with harness.root() as root:
        return sorted(root.owners)


def test_a_right_answer_signs_in_and_provisions(consumer, provider):
    harness, testapp = consumer()
    assert "Sign in with Example IdP" in testapp.get("/account/login").text
    request, code = flow(testapp, provider, came_from="/olga/")
    assert request["redirect_uri"] == "http://localhost/account/login/oidc/callback"
    assert len(request["state"]) >= 32 and len(request["nonce"]) >= 32 and len(request["code_challenge"]) == 43
    done = callback(testapp, code=code, state=request["state"])
    assert done.status_int == 302 and done.location == "http://localhost/olga/"
    assert "olga@idp.example.org" in testapp.get("/account/settings").text
    with harness.root() as root:
        assert root.external_accounts.accounts["olga"].subject == f"{provider.issuer}|subject-1"
        assert root.owners["olga"].password_hash == ""


WRONG = {
    "another issuer": dict(iss="https://evil.example.org"),
    "another audience": dict(aud="another-client"),
    "several audiences, azp not us": dict(aud=[CLIENT_ID, "another-client"], azp="another-client"),
    "expired": dict(exp=int(time.time()) - 3600, iat=int(time.time()) - 4000),
    "no expiry": dict(exp=None),
    "another nonce": dict(nonce="not-the-flows-nonce"),
    "no nonce": dict(nonce=None),
    "no subject": dict(sub=None),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_a_token_wrong_in_one_way_is_refused_and_provisions_nothing(consumer, provider, case):
    harness, testapp = consumer()
    request, code = flow(testapp, provider, **WRONG[case])
    refused = callback(testapp, code=code, state=request["state"])
    assert refused.status_int == 400 and "ID token" in refused.text, refused.text
    assert owners(harness) == []
    assert "/account/login" in testapp.get("/account/settings", status=302).location


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_with_public_key(provider, claims) -> str:
    """The algorithm-confusion attack: HS256 keyed with the provider's public key (made
    by hand, as an attacker would: joserfc refuses to use a public key as a secret)."""
    head = b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode()) + "." + b64(json.dumps(claims).encode())
    key = provider.key.as_pem(private=False)
    return head + "." + b64(hmac.new(key, head.encode(), hashlib.sha256).digest())


def test_bad_signatures_unsigned_and_hmac_tokens_are_refused(consumer, provider):
    harness, testapp = consumer()
    impostor = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same key id, another key
    for make_token in (
        lambda claims: provider.sign(claims, key=impostor),
        lambda claims: provider.sign(claims)[:-10] + "AAAAAAAAAA",
        lambda claims: hmac_with_public_key(provider, claims),
    ):
        request, code = flow(testapp, provider, make_token)
        assert callback(testapp, code=code, state=request["state"]).status_int == 400
    request, code = flow(testapp, provider, lambda claims: ".".join(
        b64(json.dumps(part).encode()) for part in ({"alg": "none"}, claims)) + ".")
    assert callback(testapp, code=code, state=request["state"]).status_int == 400
    assert owners(harness) == []


def test_state_mismatch_and_replayed_callbacks_are_refused_before_any_code_exchange(consumer, provider):
    harness, testapp = consumer()
    request, code = flow(testapp, provider)
    calls = provider.token_calls
    refused = callback(testapp, code=code, state="forged-state")
    assert refused.status_int == 400 and "state does not match" in refused.text
    assert provider.token_calls == calls  # the code was never sent anywhere
    # the flow is used up: even the right state is refused now (start again)
    assert callback(testapp, code=code, state=request["state"]).status_int == 400
    # a callback in a browser that started no flow (login CSRF) is refused
    other = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    assert callback(other, code=code, state=request["state"]).status_int == 400
    assert owners(harness) == []


def test_a_refused_or_reused_code_is_refused(consumer, provider):
    harness, testapp = consumer()
    request, code = flow(testapp, provider)
    assert callback(testapp, code=code, state=request["state"]).status_int == 302
    testapp.reset()
    again = begin(testapp)
    refused = callback(testapp, code=code, state=again["state"])  # the provider has used it up
    assert refused.status_int == 400 and "refused the code" in refused.text
    assert callback(testapp, error="access_denied", state=begin(testapp)["state"]).status_int == 400


def test_discovery_naming_another_issuer_and_an_unreachable_provider_are_503(consumer, provider):
    harness, testapp = consumer()
    provider.discovery_issuer = "https://evil.example.org"
    page = testapp.get("/account/login/oidc", status=503)
    assert "another issuer" in page.text
    from ..ldap_server import free_port

    harness, testapp = consumer(**{"anarepo.login.oidc.issuer": f"http://127.0.0.1:{free_port()}",
                                   "anarepo.login.oidc.timeout": "2"})
    assert "cannot be reached" in testapp.get("/account/login/oidc", status=503).text


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_endpoints_in_clear_over_the_network_are_refused(consumer, provider, endpoint):
    """The code and client secret (token endpoint), the keys that vouch for ID tokens
    (JWKS) and the access token (userinfo) never travel over plain http to another host."""
    harness, testapp = consumer()
    provider.discovery_changes = {endpoint: "http://idp.example.org/" + endpoint}
    page = testapp.get("/account/login/oidc", status=503)
    assert "not an https URL" in page.text
    assert owners(harness) == []


def test_a_rotated_signing_key_is_fetched_again(consumer, provider):
    harness, testapp = consumer()
    request, code = flow(testapp, provider)  # the JWKS is fetched at the first token, not before
    assert callback(testapp, code=code, state=request["state"]).status_int == 302
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    provider.published = [provider.key, rotated]
    testapp.reset()
    request, code = flow(testapp, provider, lambda claims: provider.sign(claims, key=rotated))
    assert callback(testapp, code=code, state=request["state"]).status_int == 302


def test_groups_from_userinfo_only_for_the_same_subject(consumer, provider):
    harness, testapp = consumer()
    with harness.root() as root:
        from anarepo.services.accounts import create_organization, create_user
        from anarepo.services.orgs import create_group

        from anarepo.names import reserved_owner_names

        reserved = reserved_owner_names(harness.registry)
        admin = create_user(root, "corpadmin", "a@example.com", "correct-horse-battery", reserved=reserved)
        create_group(create_organization(root, "corp", "c@example.com", admin, reserved=reserved), "engineers", "read")
    provider.userinfo = {"sub": "someone-else", "groups": ["engineering"]}
    request, code = flow(testapp, provider, groups=None)
    assert callback(testapp, code=code, state=request["state"]).status_int == 302
    with harness.root() as root:
        assert "olga" not in root.owners["corp"].groups["engineers"].members
    provider.userinfo = {"sub": "subject-1", "groups": ["engineering"]}
    testapp.reset()
    request, code = flow(testapp, provider, groups=None)
    assert callback(testapp, code=code, state=request["state"]).status_int == 302
    with harness.root() as root:
        assert "olga" in root.owners["corp"].groups["engineers"].members


def test_a_local_account_or_another_subject_is_never_taken_over(consumer, provider):
    harness, testapp = consumer()
    harness.make_user("olga")
    request, code = flow(testapp, provider)
    refused = callback(testapp, code=code, state=request["state"])
    assert refused.status_int == 403 and "does not sign in through oidc" in refused.text
    request, code = flow(testapp, provider, preferred_username="oleg")
    assert callback(testapp, code=code, state=request["state"]).status_int == 302
    testapp.reset()
    # another person of the provider whose username became "oleg"
    request, code = flow(testapp, provider, preferred_username="oleg", sub="subject-2")
    assert callback(testapp, code=code, state=request["state"]).status_int == 403


def test_an_oidc_account_must_sign_in_again_within_the_recheck_interval(consumer, provider):
    interval = 3.0  # long enough for two requests on a loaded machine, short enough to wait for
    harness, testapp = consumer(**{"anarepo.login.oidc.recheck_interval": str(interval)})
    request, code = flow(testapp, provider)
    callback(testapp, code=code, state=request["state"])
    vouched = time.time()
    token = harness.make_token("olga", scopes=["all"])
    testapp.get("/account/settings", status=200)
    testapp.get("/api/user", headers={"Authorization": f"token {token}"}, status=200)
    assert time.time() - vouched < interval, "too slow to show the bound; the assertions above prove nothing"
    time.sleep(max(0.0, vouched + interval + 0.1 - time.time()))
    assert "/account/login" in testapp.get("/account/settings", status=302).location
    testapp.get("/api/user", headers={"Authorization": f"token {token}"}, status=401)
    request, code = flow(testapp, provider)
    assert callback(testapp, code=code, state=request["state"]).status_int == 302
    testapp.get("/api/user", headers={"Authorization": f"token {token}"}, status=200)


@pytest.mark.parametrize("username", ["conda", "pypi", "api", "projects"])
def test_a_provider_username_that_names_a_face_or_a_list_page_is_refused(consumer, provider, username):
    """The faces' mounts (and a type's list page) are reserved for OIDC and directory
    accounts as for sign-ups: such an account would be shadowed by the route."""
    harness, testapp = consumer()
    request, code = flow(testapp, provider, preferred_username=username)
    refused = callback(testapp, code=code, state=request["state"])
    assert refused.status_int == 403 and "cannot be an account name here" in refused.text
    assert username not in owners(harness)
