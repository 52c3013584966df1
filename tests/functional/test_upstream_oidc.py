"""Sign-in through an upstream OpenID Connect provider that is a second anarepo
instance (its provider, anarepo/security/oidc_provider.py), served by waitress:
discovery, the authorization-code flow with PKCE through its login and consent
pages, the ID token with its group claims mapped to the consumer's organization
groups.  Then real tokens of that provider, substituted into the consumer's flow
on the way back from its token endpoint, are refused: another issuer's, another
client's, an expired one signed with the provider's own key, a re-signed or altered
one, one of another flow (nonce), and a callback with another state."""
from __future__ import annotations

import hashlib
import html
import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt

from anarepo import main
from anarepo.testing import AppHarness, LiveServer, make_settings, web_login

CONSUMER_SECRET = "consumer-secret-0123456789"
CALLBACK = "http://127.0.0.1/account/login/oidc/callback"  # loopback: any port (RFC 8252)
CONSUMER_HOST = "127.0.0.1:8123"
CLIENTS = {
    "anarepo.oidc.clients": "consumer other",
    "anarepo.oidc.client.consumer.name": "Consumer anarepo",
    "anarepo.oidc.client.consumer.redirect_uris": CALLBACK,
    "anarepo.oidc.client.consumer.secret_sha256": hashlib.sha256(CONSUMER_SECRET.encode()).hexdigest(),
    "anarepo.oidc.client.other.redirect_uris": CALLBACK,
    "anarepo.oidc.client.other.secret_sha256": hashlib.sha256(CONSUMER_SECRET.encode()).hexdigest(),
}


class TokenSubstitution:
    """WSGI middleware in front of a provider: ``swap(id_token) -> id_token`` rewrites
    the ID token of the token endpoint's answers while set (a substituted token)."""

    def __init__(self, app):
        self.app = app
        self.swap = None

    def __call__(self, environ, start_response):
        if self.swap is None or environ.get("PATH_INFO") != "/api/oauth/token":
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if captured["status"].startswith("200"):
            answer = json.loads(body)
            answer["id_token"] = self.swap(answer["id_token"])
            body = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]


class Provider:
    """A second anarepo: a user ``pat`` in the organization group ``corp/devs``."""

    def __init__(self, path):
        self.harness = AppHarness(main({}, **make_settings(path, **CLIENTS)))
        self.middleware = TokenSubstitution(self.harness.wsgi_app)
        self.live = LiveServer(self.middleware).start()
        self.issuer = self.live.url
        self.harness.make_user("pat")
        self.harness.make_user("provadmin")
        self.harness.make_org("corp", "provadmin")
        with self.harness.root() as root:
            from anarepo.services.orgs import add_group_member, create_group

            org = root.owners["corp"]
            add_group_member(root, org, create_group(org, "devs", "write"), "pat")
            create_group(org, "sales", "read")
        self.browser = webtest.TestApp(self.harness.wsgi_app,
                                       extra_environ={"HTTP_HOST": f"127.0.0.1:{self.live.port}"})
        web_login(self.browser, "pat")

    def approve(self, authorization_url: str) -> dict:
        """The user allows the request on the provider's consent page; the query sent back."""
        parts = urlsplit(authorization_url)
        assert f"{parts.scheme}://{parts.netloc}" == self.issuer
        page = self.browser.get(parts.path + "?" + parts.query)
        back = page.forms["consent-form"].submit("decision", value="allow", status=302)
        return {k: v[0] for k, v in parse_qs(urlsplit(back.location).query).items()}

    def id_token_for(self, request: dict, client_id="consumer", nonce=None) -> str:
        """A real ID token of this provider for ``client_id`` from a flow the test runs itself."""
        verifier = secrets.token_urlsafe(48)
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": request["redirect_uri"],
                 "scope": "openid profile email groups", "state": "s" + secrets.token_hex(8),
                 "nonce": nonce or request["nonce"], "code_challenge": create_s256_code_challenge(verifier),
                 "code_challenge_method": "S256"}
        page = self.browser.get("/account/oauth/authorize", query)
        back = page.forms["consent-form"].submit("decision", value="allow", status=302)
        code = parse_qs(urlsplit(back.location).query)["code"][0]
        import base64

        basic = base64.b64encode(f"{client_id}:{CONSUMER_SECRET}".encode()).decode()
        answer = self.browser.post("/api/oauth/token", {"grant_type": "authorization_code", "code": code,
                                                        "redirect_uri": request["redirect_uri"],
                                                        "code_verifier": verifier},
                                   headers={"Authorization": f"Basic {basic}"})
        return answer.json["id_token"]

    def signing_key(self):
        with self.harness.root() as root:
            state = root.oidc_provider
            return state.keys[state.current_kid].key()

    def close(self):
        self.live.stop()
        self.harness.close()


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    made = Provider(tmp_path_factory.mktemp("provider"))
    yield made
    made.close()


@pytest.fixture
def consumer(tmp_path, provider):
    harness = AppHarness(main({}, **make_settings(tmp_path, **{
        "anarepo.login.oidc.issuer": provider.issuer,
        "anarepo.login.oidc.client_id": "consumer",
        "anarepo.login.oidc.client_secret": CONSUMER_SECRET,
        "anarepo.login.oidc.scopes": "openid profile email groups",
        "anarepo.login.oidc.title": "Corp anarepo",
        "anarepo.login.oidc.group_map": "corp/devs -> myorg/developers\ncorp/sales -> myorg/sales",
    })))
    harness.make_user("admin1", admin=True)
    harness.make_org("myorg", "admin1")
    with harness.root() as root:
        from anarepo.services.orgs import create_group

        create_group(root.owners["myorg"], "developers", "write")
        create_group(root.owners["myorg"], "sales", "read")
    provider.middleware.swap = None
    yield harness, webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": CONSUMER_HOST})
    provider.middleware.swap = None
    harness.close()


def begin(testapp) -> tuple[str, dict]:
    location = testapp.get("/account/login/oidc", {"came_from": "/dashboard"}, status=302).location
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def come_back(testapp, query: dict, status="*"):
    return testapp.get("/account/login/oidc/callback", query, status=status)


def test_sign_in_through_another_anarepo_maps_its_group_claims(consumer, provider):
    harness, testapp = consumer
    url, request = begin(testapp)
    assert request["code_challenge_method"] == "S256" and request["client_id"] == "consumer"
    assert request["redirect_uri"] == f"http://{CONSUMER_HOST}/account/login/oidc/callback"
    done = come_back(testapp, provider.approve(url), status=302)
    assert done.location == f"http://{CONSUMER_HOST}/dashboard"
    assert "Signed in as <strong>pat</strong>" in testapp.get("/account/settings").text
    with harness.root() as root:
        assert root.owners["pat"].email == ""  # anarepo says email_verified: false, so it is not taken
        org = root.owners["myorg"]
        assert "pat" in org.groups["developers"].members and "pat" not in org.groups["sales"].members
        assert root.external_accounts.accounts["pat"].subject == f"{provider.issuer}|pat"
    # the provider moves pat from devs to sales: the next sign-in follows
    with provider.harness.root() as root:
        from anarepo.services.orgs import add_group_member, remove_group_member

        corp = root.owners["corp"]
        remove_group_member(root, corp, corp.groups["devs"], "pat")
        add_group_member(root, corp, corp.groups["sales"], "pat")
    try:
        testapp.reset()
        url, request = begin(testapp)
        come_back(testapp, provider.approve(url), status=302)
        with harness.root() as root:
            org = root.owners["myorg"]
            assert "pat" in org.groups["sales"].members and "pat" not in org.groups["developers"].members
    finally:
        with provider.harness.root() as root:
            corp = root.owners["corp"]
            remove_group_member(root, corp, corp.groups["sales"], "pat")
            add_group_member(root, corp, corp.groups["devs"], "pat")


def refused(harness, testapp, provider, swap, expect: str):
    """Run the flow with the provider's token answer rewritten by ``swap``: 400, nothing provisioned."""
    url, request = begin(testapp)
    query = provider.approve(url)
    provider.middleware.swap = lambda original: swap(original, request)
    try:
        answer = come_back(testapp, query)
    finally:
        provider.middleware.swap = None
    assert answer.status_int == 400 and expect in html.unescape(answer.text), answer.text[:3000]
    with harness.root() as root:
        assert "pat" not in root.owners
    assert "/account/login" in testapp.get("/account/settings", status=302).location


def test_a_token_of_another_issuer_is_refused(consumer, provider, tmp_path):
    harness, testapp = consumer
    stranger = Provider(tmp_path / "stranger")  # same software, same user name, another issuer
    try:
        refused(harness, testapp, provider, lambda original, request: stranger.id_token_for(request),
                "ID token is not valid")
    finally:
        stranger.close()


def test_a_token_for_another_client_is_refused(consumer, provider):
    harness, testapp = consumer
    refused(harness, testapp, provider,
            lambda original, request: provider.id_token_for(request, client_id="other"), "Invalid claim: 'aud'")


def test_a_token_of_another_flow_is_refused(consumer, provider):
    harness, testapp = consumer
    refused(harness, testapp, provider,
            lambda original, request: provider.id_token_for(request, nonce="another-flows-nonce"),
            "Invalid claim: 'nonce'")


def test_an_expired_token_signed_by_the_provider_itself_is_refused(consumer, provider):
    harness, testapp = consumer

    def expired(original, request):
        key = provider.signing_key()
        claims = jwt.decode(original, key).claims
        claims.update(iat=int(time.time()) - 4000, exp=int(time.time()) - 3600)
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    refused(harness, testapp, provider, expired, "expired")


def test_an_altered_or_foreign_signed_token_is_refused(consumer, provider):
    harness, testapp = consumer

    def altered(original, request):
        head, payload, signature = original.split(".")
        claims = jwt.decode(original, provider.signing_key()).claims
        import base64

        claims["preferred_username"] = "admin1"  # take over the consumer's admin
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{head}.{forged}.{signature}"

    refused(harness, testapp, provider, altered, "ID token is not valid")

    def foreign(original, request):
        from joserfc.jwk import RSAKey

        key = provider.signing_key()
        impostor = RSAKey.generate_key(2048, parameters={"kid": key.kid})
        return jwt.encode({"alg": "RS256", "kid": key.kid}, jwt.decode(original, key).claims, impostor)

    refused(harness, testapp, provider, foreign, "ID token is not valid")


def test_a_callback_with_another_state_is_refused(consumer, provider):
    harness, testapp = consumer
    url, request = begin(testapp)
    query = provider.approve(url)
    answer = come_back(testapp, {**query, "state": "x" * 32})
    assert answer.status_int == 400 and "state does not match" in answer.text
    with harness.root() as root:
        assert "pat" not in root.owners
