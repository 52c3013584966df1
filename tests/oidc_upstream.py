"""A scripted OpenID Connect provider for the client's refusal tests.

It serves discovery, a JWKS and a token endpoint on a free loopback port.  The
test decides what the token endpoint hands back for each code: a correct ID
token or one wrong in exactly one way (issuer, audience, expiry, signature,
nonce...), signed with joserfc (Authlib's JOSE library) — the provider
misbehaving, or a token substituted on the way.  The token endpoint checks
what a real provider checks of the client: the code, the redirect URI, the
client secret and the PKCE S256 verifier against the challenge of the
authorization request.  Honest end-to-end sign-ins use a second anarepo
instance as the provider (``tests/functional/test_upstream_oidc.py``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "anarepo-consumer"
CLIENT_SECRET = "consumer-secret-0123456789"


class ScriptedProvider:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.published = [self.key]
        self.codes: dict[str, dict] = {}
        self.token_calls = 0
        self.userinfo: dict | None = None
        self.discovery_issuer = None  # None: the real issuer
        self.discovery_changes = {}  # other fields of the discovery document, changed
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, data):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = urlparse(self.path).path
                if path == "/.well-known/openid-configuration":
                    return self._json(200, provider.metadata())
                if path == "/jwks":
                    return self._json(200, KeySet(provider.published).as_dict(private=False))
                if path == "/userinfo" and provider.userinfo is not None:
                    return self._json(200, provider.userinfo)
                self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path != "/token":
                    return self._json(404, {"error": "not_found"})
                with provider.lock:
                    provider.token_calls += 1
                    grant = provider.codes.pop(form.get("code", ""), None)
                auth = self.headers.get("Authorization", "")
                expected_auth = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if auth != expected_auth:
                    return self._json(401, {"error": "invalid_client"})
                if grant is None or form.get("grant_type") != "authorization_code":
                    return self._json(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if challenge != grant["challenge"] or form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._json(400, {"error": "invalid_grant"})
                self._json(200, {"access_token": "at-" + secrets.token_hex(8), "token_type": "Bearer",
                                 "expires_in": 300, "id_token": grant["id_token"]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def metadata(self) -> dict:
        return {
            "issuer": self.discovery_issuer or self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            **self.discovery_changes,
        }

    def claims(self, request: dict, **changes) -> dict:
        """Right claims for an authorization request (``request``: its query), changed by ``changes``
        (a value of None drops the claim)."""
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "subject-1", "iat": now, "exp": now + 300,
                  "nonce": request["nonce"], "preferred_username": "olga", "email": "olga@idp.example.org",
                  "email_verified": True, "name": "Olga", "groups": ["engineering"]}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, key=None, header=None) -> str:
        key = key or self.key
        return jwt.encode(header or {"alg": "RS256", "kid": key.kid}, claims, key)

    def issue(self, request: dict, id_token: str) -> str:
        """A code for this authorization request that the token endpoint trades for ``id_token``."""
        assert request["code_challenge_method"] == "S256" and request["response_type"] == "code"
        assert request["client_id"] == CLIENT_ID and "openid" in request["scope"].split()
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {"challenge": request["code_challenge"], "redirect_uri": request["redirect_uri"],
                                "id_token": id_token}
        return code

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
