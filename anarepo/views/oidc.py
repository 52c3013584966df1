"""The OpenID Connect provider's endpoints (the core is ``anarepo/security/oidc_provider.py``).

* ``GET /.well-known/openid-configuration`` — discovery (where ``anaconda login`` starts);
* ``GET|POST /account/oauth/authorize`` — the web face: the login form when there is
  no session, then a consent page whose form (CSRF-protected) issues the code;
* ``POST /api/oauth/token`` — code + PKCE verifier → access token (and ID token);
* ``GET /api/oauth/jwks`` — the public signing keys;
* ``GET /api/oauth/userinfo`` — claims for a bearer access token;
* ``/app/local-login-success`` and ``-error`` — where anaconda-client's loopback
  listener sends the browser back (its ``login_success_path``).

The API face carries no cookie and no CSRF, so the token endpoint lives there.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..security.headers import CSP
from ..security.oidc_provider import (
    Provider,
    ProviderError,
    after_login_params,
    discovery,
    login_required_after,
    provider_settings,
    published_keys,
    user_claims,
    verify_access_token,
)
from ..security.policy import app_root, session_auth_time

#: the query parameters of an authorization request carried through the consent form
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method", "nonce", "prompt", "max_age", "login_after")


def _enabled(request) -> None:
    if not provider_settings(request.registry).enabled:
        raise HTTPNotFound()


def _json(request, body, max_age=None):
    response = request.response
    response.content_type = "application/json"
    response.json_body = body
    response.headers["Access-Control-Allow-Origin"] = "*"
    if max_age is not None:
        response.cache_control.max_age = max_age
        response.cache_control.public = True
    return response


@view_config(route_name="oidc.discovery", request_method=("GET", "HEAD"), permission=NO_PERMISSION_REQUIRED)
def openid_configuration(request):
    _enabled(request)
    return _json(request, discovery(request), max_age=300)


@view_config(route_name="oidc.jwks", request_method=("GET", "HEAD"), permission=NO_PERMISSION_REQUIRED)
def jwks(request):
    _enabled(request)
    return _json(request, {"keys": published_keys(request)}, max_age=300)


def _form_action_csp(redirect_uri: str | None) -> str:
    """The site's CSP, letting the consent form's redirect reach the client (form-action
    governs the redirects that follow a form submission)."""
    if not redirect_uri:
        return CSP
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    return CSP.replace("form-action 'self'", f"form-action 'self' {origin}")


def _authorization_error(request, server, error: OAuth2Error):
    """Back to the client when its redirect URI was validated, else a page here: an
    unvalidated ``redirect_uri`` is never followed (no open redirect)."""
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    response = render_to_response(
        "oidc_error.jinja2", {"error": error.error, "description": error.description or ""}, request=request)
    response.status = 400
    return response


def _sign_in_too_old(request, grant, user) -> int | None:
    """``prompt`` and ``max_age`` (OpenID Connect Core 3.1.2.1): the time a sign-in must
    be no older than, when the browser's (or its lack) does not meet it, else None.

    A signed-in browser asked for ``prompt=none`` gets ``login_required`` instead of
    the login form, and ``consent_required`` instead of the consent page (it may
    show neither).  Errors go back to the validated redirect URI."""
    data = grant.request.payload.data
    try:
        bound = login_required_after(data)
    except InvalidRequestError as error:
        raise InvalidRequestError(error.description, redirect_uri=grant.redirect_uri,
                                  state=grant.request.payload.state) from None
    if user is None:  # the login form comes first (Authlib answered prompt=none already)
        return bound
    prompts = str(data.get("prompt") or "").split()
    auth_time = session_auth_time(request)
    if bound is not None and (auth_time is None or auth_time < bound):
        if "none" in prompts:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri, state=grant.request.payload.state)
        return bound
    if "none" in prompts:
        raise ConsentRequiredError(redirect_uri=grant.redirect_uri, state=grant.request.payload.state)
    return None


@view_config(route_name="oidc.authorize", request_method=("GET", "POST"), permission=NO_PERMISSION_REQUIRED)
def authorize(request):
    _enabled(request)
    server = Provider(request)
    identity = request.identity
    user = identity.user if identity is not None and identity.method == "session" else None
    try:
        grant = server.get_consent_grant(request, end_user=user)
        bound = _sign_in_too_old(request, grant, user)
    except OAuth2Error as error:
        return _authorization_error(request, server, error)
    except ValueError:  # Authlib's error text refuses some characters of hostile values
        return _authorization_error(request, server, InvalidRequestError("Malformed request."))
    if user is None or bound is not None:
        params = {k: v for k, v in grant.request.payload.data.items() if k in AUTHORIZE_PARAMS}
        if bound is not None:  # back from the login form, the new sign-in meets the bound
            params = after_login_params(params, bound)
        came_from = request.route_path("oidc.authorize", _query=params)
        return HTTPFound(request.route_url("login", _query={"came_from": came_from}))
    csp = _form_action_csp(grant.redirect_uri)
    if request.method == "POST":
        allowed = request.POST.get("decision") == "allow"
        response = server.create_authorization_response(request, grant_user=user if allowed else None, grant=grant)
        response.headers["Content-Security-Policy"] = csp
        return response
    client = grant.client
    scopes = [s for s in (grant.request.scope or "").split()]
    response = render_to_response("oidc_consent.jinja2", {
        "client": client, "user": user, "scopes": scopes,
        "redirect": urlsplit(grant.redirect_uri).netloc,
        "hidden": [(k, v) for k, v in grant.request.payload.data.items() if k in AUTHORIZE_PARAMS],
    }, request=request)
    response.headers["Content-Security-Policy"] = csp
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(route_name="oidc.token", request_method="POST", permission=NO_PERMISSION_REQUIRED,
             require_csrf=False)
def token(request):
    _enabled(request)
    server = Provider(request)
    try:
        return server.create_token_response(request)
    except OAuth2Error as error:  # raised before Authlib's own handling (e.g. plain http)
        return server.handle_error_response(None, error)
    except ValueError:  # Authlib's error text refuses some characters of hostile values
        return server.handle_error_response(None, InvalidRequestError("Malformed request."))


def _bearer_error(request, reason: str):
    response = request.response
    response.status = 401
    response.content_type = "application/json"
    response.json_body = {"error": "invalid_token", "error_description": reason}
    response.headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{reason}"'
    return response


@view_config(route_name="oidc.userinfo", request_method=("GET", "POST"), permission=NO_PERMISSION_REQUIRED,
             require_csrf=False)
def userinfo(request):
    _enabled(request)
    scheme, _, raw = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return _bearer_error(request, "a bearer access token is required")
    try:
        user, _grant, claims = verify_access_token(request, raw.strip())
    except ProviderError as exc:
        return _bearer_error(request, str(exc))
    if "openid" not in claims.get("scope", "").split():
        return _bearer_error(request, "the access token has no openid scope")
    response = _json(request, dict(user_claims(app_root(request), user, claims["scope"])))
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(route_name="oidc.login_success", renderer="oidc_done.jinja2", permission=NO_PERMISSION_REQUIRED)
def login_success(request):
    return {"ok": True}


@view_config(route_name="oidc.login_error", renderer="oidc_done.jinja2", permission=NO_PERMISSION_REQUIRED)
def login_error(request):
    request.response.status = 400
    return {"ok": False}


def includeme(config):
    config.add_route("oidc.discovery", "/.well-known/openid-configuration")
    config.add_route("oidc.authorize", "/account/oauth/authorize")
    config.add_route("oidc.token", "/api/oauth/token")
    config.add_route("oidc.jwks", "/api/oauth/jwks")
    config.add_route("oidc.userinfo", "/api/oauth/userinfo")
    # anaconda-client sends the browser here after its listener got the code
    config.add_route("oidc.login_success", "/app/local-login-success")
    config.add_route("oidc.login_error", "/app/local-login-error")
    config.scan(__name__)
