"""Sign-in through an upstream OpenID Connect provider (any issuer): Authlib's OAuth 2
client for the authorization-code flow with PKCE, joserfc for the ID token.

Configured by ``anarepo.login.oidc.*`` (docs/operations.md); off unless
``anarepo.login.oidc.issuer`` is set.  The flow (views in
``anarepo/views/signin_oidc.py``):

1. ``/account/login/oidc`` reads the issuer's discovery document (its ``issuer``
   must be the configured one, exactly), keeps a fresh ``state``, ``nonce`` and
   PKCE ``code_verifier`` in the session and sends the browser to the
   authorization endpoint (``code_challenge_method=S256``).
2. ``/account/login/oidc/callback`` takes the flow out of the session (once),
   refuses a different ``state``, exchanges the code (with the verifier and the
   client secret, if any) and checks the ID token: signature with a key of the
   issuer's JWKS (``RS256``/``ES256``/``PS256``, never ``none`` or HMAC), ``iss``,
   ``aud`` (our client id; ``azp`` too when there are several audiences),
   ``exp``/``iat`` (60 s leeway), ``nonce``.  The claims give the login
   (``login_claim``), the e-mail (when not ``email_verified: false``) and the
   groups (``groups_claim``, from the userinfo endpoint if the ID token lacks
   them), mapped to organization groups by ``group_map``.

The provider vouches for a user at sign-in only: without a way to ask it again,
an account signed in this way is re-vouched by signing in again, at least every
``recheck_interval`` seconds (8 h); until then its sessions and tokens are
refused (docs/security.md, "Sign-in").
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from pyramid.httpexceptions import HTTPBadRequest, HTTPServiceUnavailable
from pyramid.settings import aslist

from ..settings import section_reader
from .directory import parse_group_map

log = logging.getLogger(__name__)

PREFIX = "anarepo.login.oidc."
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY = 60
FLOW_SECONDS = 600  # a started sign-in must come back within this
DISCOVERY_TTL = 3600
JWKS_TTL = 300


class ProviderUnavailable(HTTPServiceUnavailable):
    def __init__(self, detail="the identity provider cannot be reached; try again later"):
        super().__init__(detail, headers={"Retry-After": "30"})


class FlowRefused(HTTPBadRequest):
    """The provider's answer (or the browser's return) is not one we accept; 400, nothing changes."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    scopes: str = "openid profile email"
    title: str = "single sign-on"
    login_claim: str = "preferred_username"
    email_claim: str = "email"
    groups_claim: str = "groups"
    group_map: tuple = ()  # (claim value, org, group)
    timeout: float = 10.0
    recheck_interval: float = 8 * 3600.0

    @classmethod
    def from_settings(cls, settings) -> "OidcSettings | None":
        issuer = (settings.get(PREFIX + "issuer") or "").strip().rstrip("/")
        if not issuer:
            return None
        get = section_reader(settings, PREFIX)
        config = cls(
            issuer=issuer,
            client_id=get("client_id"),
            client_secret=settings.get(PREFIX + "client_secret") or "",
            scopes=" ".join(aslist(get("scopes", "openid profile email"))),
            title=get("title", "single sign-on"),
            login_claim=get("login_claim", "preferred_username"),
            email_claim=get("email_claim", "email"),
            groups_claim=get("groups_claim", "groups"),
            group_map=_parse_claim_map(settings.get(PREFIX + "group_map", "")),
            timeout=float(get("timeout", "10")),
            recheck_interval=float(get("recheck_interval", str(8 * 3600))),
        )
        if not config.client_id:
            raise ValueError("anarepo.login.oidc.client_id is required with anarepo.login.oidc.issuer")
        if "openid" not in config.scopes.split():
            raise ValueError("anarepo.login.oidc.scopes must include openid")
        if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError("anarepo.login.oidc.issuer must be an https URL (http only on the loopback)")
        return config


def _parse_claim_map(text: str) -> tuple:
    """``claim value -> org/group`` lines; the value is compared exactly (not as a DN)."""
    mapping = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            value, _, _target = line.rpartition("->")
            (_dn, org, group), = parse_group_map(f"x -> {_target.strip()}")
            if not value.strip():
                raise ValueError(f"anarepo.login.oidc.group_map: expected 'VALUE -> org/group', got {line!r}")
            mapping.append((value.strip(), org, group))
    return tuple(mapping)


def _protected(url) -> bool:
    """https, or plain http to this machine (a provider on the loopback, as in tests)."""
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost"))


class UpstreamProvider:
    """One configured issuer: its metadata and keys (cached per process), the flow."""

    def __init__(self, config: OidcSettings):
        self.config = config
        self.lock = threading.Lock()
        self._metadata = (0.0, None)
        self._keys = (0.0, None)

    # -- metadata and keys ----------------------------------------------------------
    def _get_json(self, url: str) -> dict:
        import requests

        try:
            response = requests.get(url, timeout=self.config.timeout, allow_redirects=False)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("OIDC: %s: %s", url, exc)
            raise ProviderUnavailable() from None
        if not isinstance(data, dict):
            raise ProviderUnavailable("the identity provider answered something that is not JSON")
        return data

    def metadata(self) -> dict:
        fetched, data = self._metadata
        if data is None or time.monotonic() - fetched > DISCOVERY_TTL:
            data = self._get_json(self.config.issuer + "/.well-known/openid-configuration")
            if data.get("issuer") != self.config.issuer:  # OpenID Connect Discovery 1.0, 4.3
                log.error("OIDC: discovery names issuer %r, configured %r", data.get("issuer"), self.config.issuer)
                raise ProviderUnavailable("the identity provider's discovery document names another issuer")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(data.get(key), str) or not data[key].startswith(("https://", "http://")):
                    raise ProviderUnavailable(f"the identity provider's discovery document lacks {key}")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
                # the code and client secret, the keys ID tokens are checked with and the
                # access token travel to these: never in clear over the network
                if data.get(key) is not None and not _protected(data[key]):
                    log.error("OIDC: discovery gives %s %r, not https", key, data[key])
                    raise ProviderUnavailable(f"the identity provider's {key} is not an https URL")
            self._metadata = (time.monotonic(), data)
        return data

    def keys(self, refresh: bool = False):
        from joserfc.jwk import KeySet

        fetched, keyset = self._keys
        age = time.monotonic() - fetched
        # an unknown key id fetches the JWKS again at once: ID tokens come from the
        # provider's token endpoint, not from the browser, so nobody else can make us fetch
        if keyset is None or age > JWKS_TTL or refresh:
            data = self._get_json(self.metadata()["jwks_uri"])
            try:
                keyset = KeySet.import_key_set({"keys": [k for k in data.get("keys", []) if k.get("kty") != "oct"]})
            except Exception as exc:  # joserfc raises several kinds for a bad key
                log.warning("OIDC: unusable JWKS: %s", exc)
                raise ProviderUnavailable("the identity provider's keys cannot be read") from None
            self._keys = (time.monotonic(), keyset)
        return keyset

    # -- the flow -------------------------------------------------------------------
    def _client(self, redirect_uri: str):
        from authlib.integrations.requests_client import OAuth2Session

        cfg = self.config
        return OAuth2Session(cfg.client_id, cfg.client_secret or None, scope=cfg.scopes, redirect_uri=redirect_uri,
                             code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic" if cfg.client_secret else "none")

    def start(self, redirect_uri: str) -> tuple[str, dict]:
        """(URL to send the browser to, the flow to keep in the session)."""
        from authlib.common.security import generate_token

        flow = {"state": generate_token(32), "nonce": generate_token(32), "verifier": generate_token(64),
                "until": time.time() + FLOW_SECONDS}
        url, _ = self._client(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"], state=flow["state"], nonce=flow["nonce"],
            code_verifier=flow["verifier"])
        return url, flow

    def finish(self, redirect_uri: str, flow: dict, params) -> dict:
        """The verified ID token claims (plus userinfo groups) for the browser's return."""
        if not isinstance(flow, dict) or flow.get("until", 0) < time.time():
            raise FlowRefused("the sign-in took too long or was not started here; start again")
        if params.get("error"):
            raise FlowRefused(f"the identity provider refused the sign-in: {str(params.get('error'))[:100]}")
        state, code = params.get("state"), params.get("code")
        import hmac

        if not isinstance(state, str) or not hmac.compare_digest(state.encode(), flow["state"].encode()):
            raise FlowRefused("the sign-in's state does not match; start again")
        if not code:
            raise FlowRefused("the identity provider sent no code")
        token = self._exchange(redirect_uri, code, flow["verifier"])
        claims = self.verify_id_token(token.get("id_token"), flow["nonce"])
        if self.config.groups_claim not in claims and token.get("access_token"):
            claims.update(self._userinfo_groups(token["access_token"], claims["sub"]))
        return claims

    def _exchange(self, redirect_uri: str, code: str, verifier: str) -> dict:
        from authlib.integrations.base_client.errors import OAuthError
        import requests

        try:
            return dict(self._client(redirect_uri).fetch_token(
                self.metadata()["token_endpoint"], grant_type="authorization_code", code=code,
                code_verifier=verifier, timeout=self.config.timeout))
        except OAuthError as exc:
            raise FlowRefused(f"the identity provider refused the code: {exc.error}") from None
        except requests.RequestException as exc:
            log.warning("OIDC: token endpoint: %s", exc)
            raise ProviderUnavailable() from None
        except ValueError:
            raise FlowRefused("the identity provider's token answer cannot be read") from None

    def verify_id_token(self, raw, nonce: str) -> dict:
        """The claims of a valid ID token for this client and this flow's nonce, else :class:`FlowRefused`."""
        from joserfc import jwt
        from joserfc.errors import InvalidKeyIdError, JoseError
        from joserfc.jwt import JWTClaimsRegistry

        if not isinstance(raw, str) or not raw:
            raise FlowRefused("the identity provider sent no ID token")
        try:
            try:
                token = jwt.decode(raw, self.keys(), algorithms=list(ALGORITHMS))
            except InvalidKeyIdError:  # a key the provider added since we fetched its JWKS
                token = jwt.decode(raw, self.keys(refresh=True), algorithms=list(ALGORITHMS))
            claims = token.claims
            JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except JoseError as exc:
            raise FlowRefused(f"the identity provider's ID token is not valid: {exc.description or exc.error}") from None
        except ValueError as exc:
            raise FlowRefused(f"the identity provider's ID token cannot be read: {exc}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise FlowRefused("the ID token was issued to another client (azp)")
        if claims.get("iat", 0) > time.time() + LEEWAY:
            raise FlowRefused("the ID token is issued in the future")
        return dict(claims)

    def _userinfo_groups(self, access_token: str, sub: str) -> dict:
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint:
            return {}
        import requests

        try:
            response = requests.get(endpoint, headers={"Authorization": f"Bearer {access_token}"},
                                    timeout=self.config.timeout, allow_redirects=False)
            data = response.json() if response.ok else {}
        except (requests.RequestException, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("sub") != sub:  # OpenID Connect Core 5.3.2
            return {}
        groups = data.get(self.config.groups_claim)
        return {self.config.groups_claim: groups} if groups is not None else {}

    # -- claims -> account ---------------------------------------------------------------
    def profile(self, claims: dict):
        from .external import ExternalProfile, SignInRefused, map_groups

        cfg = self.config
        login = claims.get(cfg.login_claim)
        if not isinstance(login, str) or not login:
            raise SignInRefused(f"the identity provider sent no {cfg.login_claim!r} claim")
        email = claims.get(cfg.email_claim) if claims.get("email_verified", True) is not False else ""
        values = claims.get(cfg.groups_claim) or []
        values = {values} if isinstance(values, str) else {v for v in values if isinstance(v, str)}
        return ExternalProfile(login=login, subject=f"{cfg.issuer}|{claims['sub']}",
                               email=email if isinstance(email, str) else "", name=str(claims.get("name") or "")[:200],
                               **map_groups(cfg.group_map, values))


def get_upstream(registry) -> UpstreamProvider | None:
    return registry.anarepo_upstream_oidc


def includeme(config):
    from .external import install_source

    settings = OidcSettings.from_settings(config.registry.settings)
    # the provider cannot be asked again without the user: the account must sign in again
    install_source(config, "oidc", "anarepo_upstream_oidc", UpstreamProvider(settings) if settings else None,
                   settings and settings.recheck_interval, ProviderUnavailable)
