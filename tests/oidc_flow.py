"""The OpenID Connect provider driven as anaconda-client drives it, through WebTest
(tests/functional/test_oidc_provider.py, tests/adversarial/test_oidc_attacks.py)."""
from __future__ import annotations

import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from anarepo.security.oidc_provider import ANACONDA_CLIENT_ID, ANACONDA_REDIRECT_URI
from anarepo.testing import web_login

PORTAL_SECRET = "portal-secret-0123456789"
#: a confidential web client without API access (settings of a second app)
PORTAL = {
    "anarepo.oidc.clients": "portal",
    "anarepo.oidc.client.portal.name": "Company portal",
    "anarepo.oidc.client.portal.redirect_uris": "https://portal.example.org/callback",
    "anarepo.oidc.client.portal.secret_sha256": hashlib.sha256(PORTAL_SECRET.encode()).hexdigest(),
}

#: what anaconda_auth.actions.make_auth_code_request_url sends (but the PKCE pair)
CLIENT_SCOPE = "openid email profile offline_access"
LOGIN_BODY = {"scopes": None, "note": "binstar_client:me@box", "note_url": "https://x/api", "hostname": "box",
              "user": None, "max-age": None, "strength": "strong", "fail-if-exists": False}


class Flow:
    """One authorization-code flow with PKCE: the request, consent, exchange."""

    def __init__(self, testapp, client_id=ANACONDA_CLIENT_ID, redirect_uri=ANACONDA_REDIRECT_URI,
                 scope=CLIENT_SCOPE):
        self.testapp = testapp
        self.verifier = secrets.token_urlsafe(64)
        self.state = secrets.token_urlsafe(16)
        self.params = {"client_id": client_id, "response_type": "code", "scope": scope, "state": self.state,
                       "redirect_uri": redirect_uri, "code_challenge": create_s256_code_challenge(self.verifier),
                       "code_challenge_method": "S256"}

    def authorize(self, status=200, **changes):
        params = {k: v for k, v in {**self.params, **changes}.items() if v is not None}
        return self.testapp.get("/account/oauth/authorize", params, status=status)

    def consent(self, decision="allow", **changes) -> dict:
        """Approve on the consent page; the query of the redirect to the client."""
        page = self.authorize(**changes)
        form = page.forms["consent-form"]
        response = form.submit("decision", value=decision, status=302)
        return redirect_query(response)

    def code(self, **changes) -> str:
        query = self.consent(**changes)
        assert query["state"] == self.state
        return query["code"]

    def exchange(self, code, status=200, verifier=None, **changes):
        form = {"grant_type": "authorization_code", "client_id": self.params["client_id"], "code": code,
                "redirect_uri": self.params["redirect_uri"], "code_verifier": verifier or self.verifier, **changes}
        return self.testapp.post("/api/oauth/token", {k: v for k, v in form.items() if v is not None},
                                 status=status)


def redirect_query(response) -> dict:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def mint(testapp, access_token, status=200, **body):
    """``POST /api/authentications`` with the access token, as binstar_client's bearer_authentication."""
    return testapp.post_json("/api/authentications", {**LOGIN_BODY, **body},
                             headers={"Authorization": f"Bearer {access_token}"}, status=status)


def signed_in(app, testapp, login="alice") -> str:
    """A user with a web session in ``testapp`` (the browser of the flow)."""
    app.make_user(login)
    web_login(testapp, login)
    return login


def stored(app) -> dict:
    """How many codes, access-token records and API tokens the database holds."""
    with app.root() as root:
        state = root.oidc_provider
        return {"codes": len(state.codes), "grants": len(state.grants), "tokens": len(root.tokens)}
