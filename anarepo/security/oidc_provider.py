"""anarepo as an OpenID Connect provider for its own clients (Authlib + joserfc).

``anaconda login`` (anaconda-client 1.16) without legacy flags fetches
``https://HOST/.well-known/openid-configuration``, opens the authorization
endpoint in the browser (public client ``b4ad7f1d-…``, PKCE S256, redirect to
its listener on ``http://127.0.0.1:8000/auth/oidc``), exchanges the code at the
token endpoint (no client secret) and sends the access token as
``Authorization: Bearer`` to ``POST /api/authentications``, which mints the
usual API token.  This module is the provider's core; the views are
``anarepo/views/oidc.py``, the rules ``docs/security.md`` ("OpenID Connect
provider").

Rules kept here, each because a weaker one is an attack:

* **Redirect URIs** match exactly, except a registered loopback URI
  (``http://127.0.0.1/…``, ``http://[::1]/…``), which matches any port
  (RFC 8252 §7.3) and nothing else: the raw string must be the loopback
  literal, an optional port and the registered path — no user info, query,
  fragment, other host or ``localhost``.
* **PKCE** is required of every client, S256 only: an authorization request
  without ``code_challenge`` or with ``plain`` is refused (RFC 9700 §2.1.1).
* **Codes** are single use: a second use is refused and revokes what the first
  use issued — the access tokens and the API tokens minted from them
  (RFC 6749 §4.1.2), in a transaction of its own since the refusal aborts the
  request's.
* **Access tokens** are short-lived JWTs (RFC 9068: ``typ: at+jwt``) signed
  with the site's RS256 key, audience the API (``<issuer>/api``) for clients
  registered with API access, the client id otherwise.  ``/authentications``
  takes only an ``at+jwt`` of this issuer for the API audience from an
  API client, recorded here and not revoked: an ID token, another client's
  token, an expired or re-signed one, ``alg: none`` are refused.
* **Refresh tokens** (clients registered with ``refresh_tokens``): sha256 at rest,
  rotated at every use, a second use of a rotated one ends the family
  (:class:`RefreshFamily`), which also ends with the user's session epoch.
* **Sign-in age**: ``prompt=login`` and ``max_age`` send a browser whose sign-in
  is older than they allow to the login form again (:func:`login_required_after`);
  ``auth_time`` is the session's sign-in, and a nonce serves one code.
* **Signing keys** live in the database (``root.oidc_provider``), made on first
  use; ``anarepo oidc rotate-key`` adds a new current key and keeps retired ones
  published in the JWKS for a day, so tokens signed before stay verifiable.
"""
from __future__ import annotations

import hmac
import re
import secrets
import time
from dataclasses import dataclass, field

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant as _AuthorizationCodeGrant
from authlib.oauth2.rfc6749.grants import RefreshTokenGrant as _RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode as _OpenIDCode
from BTrees.OOBTree import OOBTree
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from persistent import Persistent
from pyramid.settings import asbool, aslist

from ..db import get_db, in_own_transaction
from .policy import app_root, session_auth_time
from .tokens import secret_digest

#: anaconda-client's fixed public client (anaconda_auth.config.AnacondaAuthSite)
ANACONDA_CLIENT_ID = "b4ad7f1d-c784-46b5-a9fe-106e50441f5a"
ANACONDA_REDIRECT_URI = "http://127.0.0.1:8000/auth/oidc"
ALG = "RS256"
ACCESS_TOKEN_TYPE = "at+jwt"
#: scopes this provider knows; others are dropped from what a client is granted
SCOPES = ("openid", "profile", "email", "groups")
#: retired signing keys stay published this long (longer than any token lives)
RETIRED_KEY_SECONDS = 24 * 3600
#: a used code is remembered this long after it was issued, to catch its reuse
USED_CODE_SECONDS = 3600
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")


class ProviderError(ValueError):
    """A bearer access token refused; ``str()`` is what the client is told."""


# -- settings and registered clients ---------------------------------------------------

@dataclass(frozen=True)
class Client(ClientMixin):
    """A registered client (settings ``anarepo.oidc.client.<id>.*``)."""

    client_id: str
    name: str
    redirect_uris: tuple = ()
    secret_sha256: str = ""  # empty: a public client (PKCE, no secret)
    scopes: tuple = SCOPES
    api: bool = False  # may its access tokens mint API tokens at /api/authentications
    refresh_tokens: bool = False  # does it get refresh tokens (anarepo.oidc.client.<id>.refresh_tokens)

    # ClientMixin ------------------------------------------------------------------
    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None  # redirect_uri is required in every request (OAuth 2.1)

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = [s for s in scope.split() if s in self.scopes]
        return " ".join(dict.fromkeys(allowed))

    def check_redirect_uri(self, redirect_uri):
        return any(redirect_matches(registered, redirect_uri) for registered in self.redirect_uris)

    def check_client_secret(self, client_secret):
        if not self.secret_sha256 or not isinstance(client_secret, str):
            return False
        digest = secret_digest(client_secret)
        return hmac.compare_digest(digest, self.secret_sha256)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.secret_sha256:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code" or (grant_type == "refresh_token" and self.refresh_tokens)


def redirect_matches(registered: str, requested: str) -> bool:
    """Whether ``requested`` is the ``registered`` redirect URI (RFC 8252 for loopback)."""
    if not isinstance(requested, str):
        return False
    for host in LOOPBACK_HOSTS:
        prefix = f"http://{host}"
        if registered.startswith(prefix + "/") or registered.startswith(prefix + ":"):
            path = "/" + registered[len(prefix):].partition("/")[2]
            pattern = re.escape(prefix) + r"(?::(\d{1,5}))?" + re.escape(path)
            match = re.fullmatch(pattern, requested)
            return bool(match) and (match.group(1) is None or 0 < int(match.group(1)) < 65536)
    return hmac.compare_digest(registered.encode(), requested.encode("utf-8", "replace"))


@dataclass(frozen=True)
class ProviderSettings:
    enabled: bool = True
    access_token_lifetime: int = 300
    code_lifetime: int = 120
    refresh_token_lifetime: int = 14 * 24 * 3600  # from the sign-in, rotations do not extend it
    clients: dict = field(default_factory=dict)


def load_settings(settings: dict) -> ProviderSettings:
    """``anarepo.oidc.*`` from the .ini: the provider, and its registered clients."""
    clients = {}
    if asbool(settings.get("anarepo.oidc.anaconda_client", True)):
        clients[ANACONDA_CLIENT_ID] = Client(ANACONDA_CLIENT_ID, "anaconda-client",
                                             (ANACONDA_REDIRECT_URI,), scopes=("openid", "profile", "email"),
                                             api=True)
    for client_id in aslist(settings.get("anarepo.oidc.clients", "")):
        if not CLIENT_ID_RE.fullmatch(client_id):
            raise ValueError(f"anarepo.oidc.clients: invalid client id {client_id!r}")
        prefix = f"anarepo.oidc.client.{client_id}."
        uris = tuple(aslist(settings.get(prefix + "redirect_uris", "")))
        if not uris:
            raise ValueError(f"{prefix}redirect_uris: a client needs at least one redirect URI")
        for uri in uris:
            if "#" in uri or not uri.startswith(("https://", "http://127.0.0.1", "http://[::1]")):
                raise ValueError(f"{prefix}redirect_uris: {uri!r} must be https (or a loopback http URI)"
                                 " without a fragment")
        secret = settings.get(prefix + "secret_sha256", "").strip().lower()
        if secret and not re.fullmatch(r"[0-9a-f]{64}", secret):
            raise ValueError(f"{prefix}secret_sha256: the hex sha256 of the client secret")
        scopes = tuple(s for s in aslist(settings.get(prefix + "scopes", " ".join(SCOPES))) if s in SCOPES)
        clients[client_id] = Client(client_id, settings.get(prefix + "name", client_id), uris, secret, scopes,
                                    asbool(settings.get(prefix + "api", False)),
                                    asbool(settings.get(prefix + "refresh_tokens", False)))
    return ProviderSettings(
        enabled=asbool(settings.get("anarepo.oidc.enabled", True)),
        access_token_lifetime=int(settings.get("anarepo.oidc.access_token_lifetime", 300)),
        code_lifetime=int(settings.get("anarepo.oidc.code_lifetime", 120)),
        refresh_token_lifetime=int(settings.get("anarepo.oidc.refresh_token_lifetime", 14 * 24 * 3600)),
        clients=clients,
    )


def provider_settings(registry) -> ProviderSettings:
    return registry.anarepo_oidc


# -- persistent state: signing keys, codes, issued access tokens -----------------------

class SigningKey(Persistent):
    def __init__(self, kid: str, private_pem: str):
        self.kid = kid
        self.private_pem = private_pem
        self.created = time.time()
        self.retired = None  # time it stopped signing

    def key(self) -> RSAKey:
        return RSAKey.import_key(self.private_pem, parameters={"kid": self.kid, "alg": ALG, "use": "sig"})


class IssuedRecord(Persistent):
    """Something the provider issued to a client for a user, until ``expires``."""

    def __init__(self, client_id, user, expires):
        self.client_id = client_id
        self.user = user
        self.expires = expires


class CodeRecord(IssuedRecord):
    """An authorization code (stored by digest only) and what its use issued."""

    family = None  # the RefreshFamily its exchange started (clients with refresh tokens)

    def __init__(self, digest, client_id, user, redirect_uri, scope, challenge, method, nonce, expires,
                 auth_time=None):
        super().__init__(client_id, user, expires)
        self.digest = digest
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.code_challenge = challenge
        self.code_challenge_method = method
        self.nonce = nonce
        self.auth_time = int(time.time()) if auth_time is None else int(auth_time)  # the user's sign-in
        self.used = False
        self.grants = ()  # jti of the access tokens its exchange issued

    # AuthorizationCodeMixin, as Authlib's grants read it
    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class GrantRecord(IssuedRecord):
    """An issued access token (by its ``jti``): revocable, and the API tokens it minted."""

    def __init__(self, jti, client_id, user, code_digest, expires):
        super().__init__(client_id, user, expires)
        self.jti = jti
        self.code_digest = code_digest
        self.revoked = False
        self.minted = ()  # digests of API tokens minted with it at /api/authentications


class RefreshFamily(IssuedRecord):
    """The refresh tokens descending from one code: they live until the family's
    ``expires`` (the sign-in plus ``refresh_token_lifetime``), with the user's session
    epoch (logging out, a password change end them), and die together when one of
    them is used twice (a stolen copy) or the code is reused."""

    def __init__(self, client_id, user, expires, epoch, code_digest, auth_time):
        super().__init__(client_id, user, expires)
        self.epoch = epoch
        self.code_digest = code_digest
        self.auth_time = auth_time
        self.revoked = False
        self.grants = ()  # jti of the access tokens refreshes issued


class RefreshRecord(Persistent):
    """One refresh token, by its sha256 only; ``used`` once it has been rotated."""

    def __init__(self, digest, family: RefreshFamily, scope):
        self.digest = digest
        self.family = family
        self.scope = scope
        self.used = False

    # what Authlib's refresh grant reads
    def check_client(self, client):
        return client.client_id == self.family.client_id

    def get_scope(self):
        return self.scope


class ProviderState(Persistent):
    """``root.oidc_provider``: keys by kid, codes by digest, access tokens by jti."""

    def __init__(self):
        self.keys = OOBTree()
        self.current_kid = None
        self.codes = OOBTree()
        self.grants = OOBTree()
        self.nonces = OOBTree()  # nonce_key(client, nonce) -> issued time: a nonce serves one code
        self.refresh_tokens = OOBTree()  # sha256 of a refresh token -> RefreshRecord
        self.expiry = OOBTree()  # "<until>:<kind>:<key>" -> None, for pruning

    def forget_later(self, until: float, kind: str, key: str) -> None:
        self.expiry[f"{int(until):012d}:{kind}:{key}"] = None

    def prune(self, now: float | None = None) -> None:
        """Drop codes and access-token records whose time is over (cheap: the index is by time)."""
        now = time.time() if now is None else now
        for entry in list(self.expiry.keys(max=f"{int(now):012d};")):
            _, kind, key = entry.split(":", 2)
            store = {"code": self.codes, "nonce": self.nonces, "refresh": self.refresh_tokens}.get(kind, self.grants)
            if key in store:
                del store[key]
            del self.expiry[entry]


def create_provider_state(root) -> None:
    """Evolve step: databases from before the provider get its (empty) state."""
    root.oidc_provider = ProviderState()


def add_used_nonces(root) -> None:
    """Evolve step: provider states from before nonce tracking get the (empty) record."""
    state = root.oidc_provider
    if "nonces" not in state.__dict__:
        state.nonces = OOBTree()


def add_refresh_tokens(root) -> None:
    """Evolve step: provider states from before refresh tokens get the (empty) record."""
    state = root.oidc_provider
    if "refresh_tokens" not in state.__dict__:
        state.refresh_tokens = OOBTree()


def nonce_key(client_id: str, nonce: str) -> str:
    return f"{client_id}|{secret_digest(nonce)}"


def login_required_after(params, now: float | None = None) -> int | None:
    """The time a sign-in must be no older than for this authorization request, or None.

    ``prompt=login`` asks for a sign-in now, ``max_age`` for one at most that many
    seconds old (OpenID Connect Core 3.1.2.1).  The browser comes back from the
    login form with ``login_after`` instead (:func:`after_login_params`): the bound
    as it stood when the client asked, which the new sign-in meets, so the request
    does not loop.  (The parameters pass through the browser, so the ID token's
    truthful ``auth_time`` stays what a client relies on: RFC 9700 §4.)
    """
    now = int(time.time() if now is None else now)
    given = params.get("login_after")
    if given is not None:
        return min(int(given), now) if str(given).isdigit() else now
    bound = None
    if "login" in str(params.get("prompt") or "").split():
        bound = now
    max_age = params.get("max_age")
    if max_age is not None:
        if not str(max_age).isdigit():
            raise InvalidRequestError("'max_age' must be a number of seconds")
        bound = max(bound or 0, now - int(max_age))
    return bound


def after_login_params(params, bound: int) -> dict:
    """The authorization request to come back to after the login form: the same, with
    ``prompt=login`` and ``max_age`` replaced by the bound they set."""
    kept = {k: v for k, v in params.items() if k not in ("max_age", "login_after")}
    prompts = [p for p in str(kept.pop("prompt", "") or "").split() if p != "login"]
    if prompts:
        kept["prompt"] = " ".join(prompts)
    kept["login_after"] = str(bound)
    return kept


def new_signing_key() -> SigningKey:
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    return SigningKey(kid, key.as_pem(private=True).decode("ascii"))


def rotate_signing_key(root) -> str:
    """Make a new current key; the previous one is retired but stays in the JWKS a day."""
    state = root.oidc_provider
    now = time.time()
    if state.current_kid is not None:
        state.keys[state.current_kid].retired = now
    signing = new_signing_key()
    state.keys[signing.kid] = signing
    state.current_kid = signing.kid
    for kid, old in list(state.keys.items()):
        if old.retired is not None and now - old.retired > RETIRED_KEY_SECONDS:
            del state.keys[kid]
    return signing.kid


def current_key(request) -> RSAKey:
    """The signing key, made on first use in a transaction of its own (GET
    transactions may not write, and every process must agree on one key).  The
    request's own snapshot cannot see that commit, so the key comes from it."""
    state = app_root(request).oidc_provider
    if state.current_kid is not None:
        return state.keys[state.current_kid].key()

    def change(root):
        if root.oidc_provider.current_kid is None:
            rotate_signing_key(root)
        signing = root.oidc_provider.keys[root.oidc_provider.current_kid]
        return signing.kid, signing.private_pem

    kid, pem = in_own_transaction(get_db(request.registry), change)
    return SigningKey(kid, pem).key()


def published_keys(request) -> list[dict]:
    """The JWKS: public halves of the current key and of keys retired less than a day ago."""
    state = app_root(request).oidc_provider
    if state.current_kid is None:
        return [current_key(request).as_dict(private=False)]
    return [k.key().as_dict(private=False) for k in live_keys(state)]


def live_keys(state, now: float | None = None) -> list:
    """The keys tokens may be signed with: the current one and those retired less than
    a day ago.  What the JWKS publishes is exactly what this provider accepts, so a
    key retired (e.g. after a leak) stops verifying when it leaves the JWKS, whether
    or not a later rotation has deleted it yet."""
    now = time.time() if now is None else now
    return [k for k in state.keys.values() if k.retired is None or now - k.retired <= RETIRED_KEY_SECONDS]


def issuer(request) -> str:
    return request.application_url


def api_audience(request) -> str:
    return issuer(request) + "/api"


# -- Authlib's authorization server over Pyramid ----------------------------------------

class PyramidPayload(OAuth2Payload):
    """The parameters of one source (query or form) as Authlib reads them."""

    def __init__(self, source):
        self._source = source

    @property
    def data(self):
        return {k: v for k, v in self._source.items()}

    @property
    def datalist(self):
        values = {}
        for key, value in self._source.items():
            values.setdefault(key, []).append(value)
        return values


class PyramidOAuth2Request(OAuth2Request):
    """The authorization request reads the query (GET) or the consent form (POST);
    the token request its form body, never its query string."""

    def __init__(self, request):
        super().__init__(request.method, request.url, headers=request.headers)
        self._request = request
        source = request.GET if request.method == "GET" else request.POST
        self.payload = PyramidPayload(source)

    @property
    def args(self):
        return self._request.GET

    @property
    def form(self):
        return self._request.POST


class S256Challenge(CodeChallenge):
    """PKCE required of every client, S256 only (``plain`` and no challenge refused)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]}

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE: 'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("PKCE is required: missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(_AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        """Required, and registered; the refusal does not echo the URI (a hostile one
        would also be no valid OAuth error text)."""
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("The 'redirect_uri' is not registered for this client.")
        return uri

    def save_authorization_code(self, code, request):
        server = self.server
        data = request.payload.data
        digest = secret_digest(code)
        now = time.time()
        record = CodeRecord(digest, request.client.client_id, request.user.login, data.get("redirect_uri"),
                            request.scope or "", data.get("code_challenge"), data.get("code_challenge_method"),
                            data.get("nonce"), now + server.settings.code_lifetime,
                            auth_time=session_auth_time(server.request) or 0)
        state = server.state
        state.prune(now)
        state.codes[digest] = record
        remember_until = now + max(USED_CODE_SECONDS, server.settings.code_lifetime)
        state.forget_later(remember_until, "code", digest)
        if data.get("nonce"):  # an ID token echoes it: one code per nonce (replay)
            key = nonce_key(record.client_id, data["nonce"])
            state.nonces[key] = int(now)
            state.forget_later(remember_until, "nonce", key)
        return record

    def query_authorization_code(self, code, client):
        state = self.server.state
        record = state.codes.get(secret_digest(code)) if isinstance(code, str) else None
        if record is None or record.client_id != client.client_id:
            return None
        if record.used:
            self.server.revoke_code(record.digest)
            return None
        if time.time() >= record.expires:
            return None
        return record

    def delete_authorization_code(self, authorization_code):
        authorization_code.used = True  # kept to recognize a reuse

    def authenticate_user(self, authorization_code):
        user = self.server.root.owners.get(authorization_code.user)
        if user is None or user.kind != "user" or user.disabled:
            return None
        return user


class RefreshTokenGrant(_RefreshTokenGrant):
    """Refresh tokens (clients registered with ``refresh_tokens``): rotated at every use;
    a rotated one used again revokes its whole family (RFC 9700 §4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        state = self.server.state
        record = state.refresh_tokens.get(secret_digest(refresh_token)) if isinstance(refresh_token, str) else None
        if record is None or record.family.revoked or time.time() >= record.family.expires:
            return None
        if record.used:
            self.server.revoke_family(record.digest)
            return None
        return record

    def authenticate_user(self, refresh_token):
        from .external import still_active

        family = refresh_token.family
        user = self.server.root.owners.get(family.user)
        if user is None or user.kind != "user" or user.disabled or user.session_epoch != family.epoch \
                or not still_active(self.server.request, self.server.root, user):
            return None  # logged out everywhere, password changed, disabled: the family ends
        return user

    def create_token_response(self):
        try:
            return super().create_token_response()
        except InvalidRequestError:  # no user any more: the same answer as a revoked token
            raise InvalidGrantError("The refresh token is no longer valid.") from None

    def revoke_old_credential(self, refresh_token):
        refresh_token.used = True  # kept to recognize a second use


class OpenIDCode(_OpenIDCode):
    """ID tokens for the ``openid`` scope, signed with the site key."""

    def __init__(self, server):
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce, request):
        """A nonce a code was already issued with (an hour): a replayed authorization request."""
        return nonce_key(request.payload.client_id, nonce) in self.server.state.nonces

    def resolve_client_private_key(self, client):
        return self.server.key

    def get_client_algorithm(self, client):
        return ALG

    def get_encode_header(self, client):
        return {"alg": ALG, "kid": self.server.key.kid}

    def get_client_claims(self, client):
        return {"iss": self.server.issuer, "aud": [client.client_id],
                "exp": int(time.time()) + self.server.settings.access_token_lifetime}

    def generate_user_info(self, user, scope):
        return user_claims(self.server.root, user, scope)


def user_claims(root, user, scope: str) -> UserInfo:
    """Claims for ``scope``: ``groups`` lists organization groups as ``<org>/<group>``."""
    scopes = (scope or "").split()
    info = UserInfo(sub=user.login)
    if "profile" in scopes:
        info["preferred_username"] = user.login
        info["name"] = user.name or user.login
    if "email" in scopes and user.email:
        info["email"] = user.email
        info["email_verified"] = False  # anarepo does not verify addresses
    if "groups" in scopes:
        groups, orgs = [], []
        for org_login in user.organizations:
            org = root.owners.get(org_login)
            if org is None or org.kind != "org":
                continue
            orgs.append(org_login)
            groups.extend(f"{org_login}/{g.name}" for g in org.groups.values() if user.login in g.members)
        info["groups"] = sorted(groups)
        info["organizations"] = sorted(orgs)
    return info


class Provider(AuthorizationServer):
    """Authlib's authorization server for one request: clients from the settings,
    state in ``root.oidc_provider``, tokens signed with the site key."""

    def __init__(self, request):
        super().__init__(scopes_supported=None)
        self.request = request
        self.settings = provider_settings(request.registry)
        self.root = app_root(request)
        self.state = self.root.oidc_provider
        self.issuer = issuer(request)
        self._key = None
        self.issued = None  # claims of the access token just generated
        self.register_token_generator("default", self.generate_access_token)
        self.register_grant(AuthorizationCodeGrant, [S256Challenge(required=True), OpenIDCode(self)])
        self.register_grant(RefreshTokenGrant)

    @property
    def key(self) -> RSAKey:
        if self._key is None:
            self._key = current_key(self.request)
        return self._key

    def query_client(self, client_id):
        return self.settings.clients.get(client_id) if isinstance(client_id, str) else None

    def create_oauth2_request(self, request):
        if isinstance(request, OAuth2Request):
            return request
        return PyramidOAuth2Request(request if request is not None else self.request)

    def create_json_request(self, request):
        raise NotImplementedError("no JSON endpoints")

    def handle_response(self, status, body, headers):
        from pyramid.response import Response

        response = Response(status=status)
        for name, value in headers:
            response.headers[name] = value
        if isinstance(body, dict):
            response.content_type = "application/json"
            response.json_body = body
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        elif body:
            response.text = body
        return response

    def send_signal(self, name, *args, **kwargs):
        pass

    def generate_access_token(self, grant_type, client, user=None, scope=None, expires_in=None,
                              include_refresh_token=False):
        """An RFC 9068 JWT: audience the API for API clients, the client otherwise; a
        refresh token for clients registered with ``refresh_tokens``."""
        now = int(time.time())
        lifetime = self.settings.access_token_lifetime
        jti = secrets.token_urlsafe(24)
        claims = {"iss": self.issuer, "sub": user.login, "aud": api_audience(self.request) if client.api
                  else client.client_id, "client_id": client.client_id, "scope": scope or "",
                  "iat": now, "exp": now + lifetime, "jti": jti}
        header = {"alg": ALG, "typ": ACCESS_TOKEN_TYPE, "kid": self.key.kid}
        token = jwt.encode(header, claims, self.key, algorithms=[ALG])
        self.issued = claims  # for save_token, which Authlib calls next
        answer = {"token_type": "Bearer", "access_token": token, "expires_in": lifetime, "scope": scope or ""}
        if include_refresh_token and client.refresh_tokens:
            answer["refresh_token"] = secrets.token_urlsafe(32)
        return answer

    def save_token(self, token, request):
        """Record the access token (by ``jti``) and the refresh token (by digest only)."""
        claims = self.issued
        code, previous = request.authorization_code, request.refresh_token
        if code is not None:
            family = None
            # kept as long as its code, so that a reuse still finds the API tokens minted with it
            keep_until = code.expires - self.settings.code_lifetime + USED_CODE_SECONDS
            code_digest_ = code.digest
        else:  # a refresh: the family of the refresh token it used
            family = previous.family
            keep_until = 0
            code_digest_ = family.code_digest
        record = GrantRecord(claims["jti"], request.client.client_id, claims["sub"], code_digest_, claims["exp"])
        self.state.grants[record.jti] = record
        self.state.forget_later(max(claims["exp"] + 60, keep_until), "grant", record.jti)
        if code is not None:
            code.grants = tuple(code.grants) + (record.jti,)
        if "refresh_token" in token:
            if family is None:
                user = request.user
                family = code.family = RefreshFamily(
                    request.client.client_id, user.login, time.time() + self.settings.refresh_token_lifetime,
                    user.session_epoch, code.digest, code.auth_time)
            family.grants = tuple(family.grants) + (record.jti,)
            digest = secret_digest(token["refresh_token"])
            self.state.refresh_tokens[digest] = RefreshRecord(digest, family, claims["scope"])
            self.state.forget_later(family.expires, "refresh", digest)
        elif family is not None:
            family.grants = tuple(family.grants) + (record.jti,)

    def revoke_code(self, digest: str) -> None:
        """A code used twice: revoke everything its first use issued (kept although
        the request that found the reuse is answered 400 and aborted)."""

        def change(root):
            state = root.oidc_provider
            code = state.codes.get(digest)
            if code is None:
                return
            _revoke_grants(root, code.grants)
            if code.family is not None:
                code.family.revoked = True
                _revoke_grants(root, code.family.grants)

        in_own_transaction(get_db(self.request.registry), change)

    def revoke_family(self, digest: str) -> None:
        """A rotated refresh token used again (one of two holders is a thief): its
        whole family ends, with the access tokens and API tokens it issued."""

        def change(root):
            record = root.oidc_provider.refresh_tokens.get(digest)
            if record is not None:
                record.family.revoked = True
                _revoke_grants(root, record.family.grants)

        in_own_transaction(get_db(self.request.registry), change)


def _revoke_grants(root, jtis) -> None:
    """Revoke these access tokens and every API token minted with them."""
    from .tokens import revoke_token

    state = root.oidc_provider
    for jti in jtis:
        grant = state.grants.get(jti)
        if grant is None:
            continue
        grant.revoked = True
        for token_digest in grant.minted:
            token = root.tokens.get(token_digest)
            if token is not None:
                revoke_token(root, token)


def discovery(request) -> dict:
    """The OpenID Provider Metadata (``/.well-known/openid-configuration``)."""
    base = issuer(request)
    return {
        "issuer": base,
        "authorization_endpoint": request.route_url("oidc.authorize"),
        "token_endpoint": request.route_url("oidc.token"),
        "jwks_uri": request.route_url("oidc.jwks"),
        "userinfo_endpoint": request.route_url("oidc.userinfo"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"] + (
            ["refresh_token"] if any(c.refresh_tokens for c in provider_settings(request.registry).clients.values())
            else []),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALG],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SCOPES),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username",
                             "name", "email", "email_verified", "groups", "organizations"],
    }


# -- bearer access tokens ---------------------------------------------------------------

def verify_access_token(request, raw: str, audience: str | None = None):
    """``(user, grant, claims)`` for a valid access token of this issuer, or :class:`ProviderError`.

    ``audience`` None accepts any client's token (userinfo); otherwise the token's
    ``aud`` must be exactly it and its client registered with API access.
    """
    root = app_root(request)
    state = root.oidc_provider
    if not isinstance(raw, str) or raw.count(".") != 2 or len(raw) > 8192:
        raise ProviderError("invalid access token")
    live = live_keys(state)
    if not live:
        raise ProviderError("invalid access token")
    keys = KeySet([k.key() for k in live])
    try:
        token = jwt.decode(raw, keys, algorithms=[ALG])
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProviderError("invalid access token (signature)") from None
    if token.header.get("typ", "").lower() not in (ACCESS_TOKEN_TYPE, "application/" + ACCESS_TOKEN_TYPE):
        raise ProviderError("not an access token")
    claims = token.claims
    expected = {"iss": {"essential": True, "value": issuer(request)},
                "exp": {"essential": True}, "jti": {"essential": True}, "sub": {"essential": True}}
    if audience is not None:
        expected["aud"] = {"essential": True, "value": audience}
    try:
        jwt.JWTClaimsRegistry(leeway=0, **expected).validate(claims)
    except JoseError as exc:
        if getattr(exc, "error", "") == "expired_token":
            raise ProviderError("expired access token") from None
        raise ProviderError(f"access token refused ({getattr(exc, 'claim', None) or exc.error})") from None
    client = provider_settings(request.registry).clients.get(claims.get("client_id"))
    if client is None or (audience is not None and not client.api):
        raise ProviderError("access token of a client without API access")
    grant = state.grants.get(claims["jti"])
    if grant is None or grant.revoked or grant.client_id != client.client_id or grant.user != claims["sub"]:
        raise ProviderError("revoked access token")
    user = root.owners.get(claims["sub"])
    if user is None or user.kind != "user" or user.disabled:
        raise ProviderError("invalid access token")
    return user, grant, claims


def note_minted(grant: GrantRecord, token_digest: str) -> None:
    """Remember an API token minted with an access token (revoked if its code is reused)."""
    grant.minted = tuple(grant.minted) + (token_digest,)


def includeme(config):
    config.registry.anarepo_oidc = load_settings(config.registry.settings)
    config.add_evolve_step("anarepo.security.oidc_provider.create_provider_state", "security.oidc-provider-1")
    config.add_evolve_step("anarepo.security.oidc_provider.add_used_nonces", "security.oidc-nonces-1")
    config.add_evolve_step("anarepo.security.oidc_provider.add_refresh_tokens", "security.oidc-refresh-1")
