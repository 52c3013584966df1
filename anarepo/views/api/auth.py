"""Logging in and managing tokens (``anaconda login``, ``logout`` and ``auth``).

``POST /authentications`` with HTTP Basic user/password is the only place the
API reads a password (through the same check as the web login form,
:mod:`anarepo.security.signin`: local, LDAP, throttled), and with ``Authorization:
Bearer`` the only place it takes an OpenID Connect access token (``anaconda
login``'s browser flow); everything else authenticates with the token it returns.
A token name (the client's ``note``) is unique per owner.  The client sends
``fail-if-exists``: when it is true and the name is taken the answer is 400 with
the reason, which ``anaconda login`` turns into its "already logged in from
host ... continue?" prompt (a yes resends with ``fail-if-exists: false``, which
replaces the old token) and ``anaconda auth --create`` prints.
"""
from __future__ import annotations

import base64
import binascii

from pyramid.httpexceptions import HTTPBadRequest, HTTPUnauthorized
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ...db import root_factory
from ...errors import Forbidden, NotFound
from ...resources.owners import Organization
from ...security.oidc_provider import ProviderError, api_audience, note_minted, provider_settings, verify_access_token
from ...security.permissions import P, scope_table
from ...security.signin import password_sign_in
from ...security.tokens import TokenExists, create_token, revoke_token, tokens_of
from .base import api_view, empty, json_body, require_user, requester_view
from .serialize import token_json

DEFAULT_TOKEN_NAME = "anaconda_token"


def requester_factory(request):
    """The requester's own account is the context of its token list (the Root without one)."""
    identity = request.identity
    return identity.user if identity is not None else root_factory(request)


def _authenticated_user(request):
    """``(user, grant)``: a password (HTTP Basic), or an access token of this site's
    OpenID Connect provider (``Bearer``, what ``anaconda login`` sends; ``grant`` is
    its record, which remembers the API token minted with it)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        if not provider_settings(request.registry).enabled:
            # the exact text makes anaconda-client fall back to the password login
            raise HTTPUnauthorized("Bearer token authentication is not enabled")
        try:
            user, grant, _claims = verify_access_token(request, value.strip(), api_audience(request))
        except ProviderError as exc:
            raise HTTPUnauthorized(str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        return user, grant
    login, password = _basic_credentials(request)
    user = password_sign_in(request, login, password, code_appended=True)
    if user is None:
        raise HTTPUnauthorized("invalid user name or password")
    return user, None


def _basic_credentials(request):
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise HTTPUnauthorized("log in with a user name and password (HTTP Basic)")
    try:
        login, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise HTTPUnauthorized("malformed Basic credentials") from None
    return login, password


@view_config(route_name="api.authentication_type", request_method="GET", renderer="json",
             permission=NO_PERMISSION_REQUIRED)
def authentication_type(request):
    return {"authentication_type": "password"}


@view_config(route_name="api.scopes", request_method="GET", renderer="json", permission=NO_PERMISSION_REQUIRED)
def scopes(request):
    """Public: the client fetches it without any header."""
    return {name: scope.description for name, scope in scope_table(request).items()}


@view_config(route_name="api.authentications", request_method="POST", renderer="json",
             permission=NO_PERMISSION_REQUIRED)
def create_authentication(request):
    """Log in: the user name and password in HTTP Basic, or an OpenID Connect access
    token (``anaconda login``'s browser flow), are the credential, read here."""
    user, grant = _authenticated_user(request)
    root = root_factory(request)
    body = json_body(request)
    org_login = body.get("user") or None
    if org_login is not None:
        org = root.get_owner(org_login) if isinstance(org_login, str) else None
        if org is None or org.kind != "org":
            raise NotFound(f"organization {org_login!r} not found")
        if user.login not in org.owners and not user.is_admin:
            raise Forbidden(f"only owners of {org.login} may create its tokens")
        org_login = org.login
    name = body.get("note") or DEFAULT_TOKEN_NAME
    max_age = body.get("max-age")
    strength = body.get("strength") if body.get("strength") in ("strong", "weak") else "strong"
    # anaconda-client sends "fail-if-exists" (absent means false: replace the old token)
    fail_if_exists = body.get("fail-if-exists", body.get("fail_if_exists")) is True
    try:
        raw, token = create_token(
            root, user, name, body.get("scopes"), max_age=max_age, org=org_login, replace=not fail_if_exists,
            hostname=str(body.get("hostname") or "")[:200], note_url=str(body.get("note_url") or "")[:500],
            strength=strength, remote_addr=request.remote_addr or "", known_scopes=scope_table(request),
        )
    except TokenExists as exc:
        # 400 is what anaconda-client reads as "exists" (login asks whether to replace it)
        raise HTTPBadRequest(f"{exc}; remove it first (anaconda auth --remove NAME) or choose another name") from None
    if grant is not None:
        note_minted(grant, token.digest)
    return {"token": raw, "id": token.id, "name": token.name, "expires": token_json(token)["expires"]}


@requester_view("api.authentication", "GET")
def current_authentication(request):
    user = require_user(request)
    token = request.identity.token
    if token is None:
        raise HTTPUnauthorized("authentication required")
    data = token_json(token)
    data["login"] = user.login
    return data


def _own_tokens(root, user):
    """The user's tokens, and the org tokens the user created."""
    seen = {}
    for token in tokens_of(root, user):
        seen[token.digest] = token
    for org_login in user.organizations:
        org = root.get_owner(org_login)
        if org is not None:
            for token in tokens_of(root, org):
                if token.user == user.login:
                    seen[token.digest] = token
    return sorted(seen.values(), key=lambda t: t.created)


@api_view("api.authentications", "GET", P.ACCOUNT)
def list_authentications(context, request):
    return [token_json(t) for t in _own_tokens(root_factory(request), context)]


@requester_view("api.authentications", "DELETE")
def remove_current(request):
    """``logout``: revoke the token the request came with."""
    require_user(request)
    token = request.identity.token
    if token is None:
        raise HTTPUnauthorized("authentication required")
    revoke_token(root_factory(request), token)
    return empty(201)


@api_view("api.authentication_named", "DELETE", P.ACCOUNT)
def remove_named(context, request):
    return _remove_from(request, context, request.matchdict["name"])


@api_view("api.authentication_org_named", "DELETE", P.MANAGE, context=Organization)
def remove_org_named(context, request):
    return _remove_from(request, context, request.matchdict["name"])


def _remove_from(request, owner, name):
    root = root_factory(request)
    digest = owner.token_names.get(name)
    token = root.tokens.get(digest) if digest else None
    if token is None:
        raise NotFound(f"no token named {name!r}")
    revoke_token(root, token)
    return empty(201)


def includeme(config):
    config.add_route("api.authentication_type", "/api/authentication-type")
    config.add_route("api.scopes", "/api/scopes")
    config.add_route("api.authentications", "/api/authentications", factory=requester_factory)
    config.add_route("api.authentication", "/api/authentication")
    config.add_route("api.authentication_named", "/api/authentications/name/{name}", factory=requester_factory)
    config.add_route("api.authentication_org_named", "/api/authentications/org/{org}/name/{name}",
                     traverse="/{org}")
    config.scan(__name__)
