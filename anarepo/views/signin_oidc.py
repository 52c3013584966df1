"""Sign-in through the upstream OpenID Connect provider (``anarepo.login.oidc.*``).

``/account/login/oidc`` starts the flow and ``/account/login/oidc/callback`` ends
it (:mod:`anarepo.security.upstream_oidc` checks everything the provider sends);
a verified identity is provisioned and synced like a directory user's
(:mod:`anarepo.security.external`) and gets an ordinary web session.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED, remember
from pyramid.view import view_config

from ..db import get_db, in_own_transaction
from ..names import reserved_owner_names
from ..security.external import SignInRefused, provision
from ..security.upstream_oidc import FlowRefused, ProviderUnavailable, get_upstream
from .helpers import safe_next_url

FLOW = "oidc_flow"  # session key of the flow under way (state, nonce, PKCE verifier)


def _provider(request):
    provider = get_upstream(request.registry)
    if provider is None:
        raise HTTPNotFound()
    return provider


def _refused(request, exc, came_from=""):
    request.response.status = exc.status_int
    if "Retry-After" in exc.headers:
        request.response.headers["Retry-After"] = exc.headers["Retry-After"]
    return {"login": "", "came_from": came_from, "error": exc.detail,
            "oidc_title": request.registry.anarepo_upstream_oidc.config.title}


@view_config(route_name="login_oidc", request_method="GET", renderer="login.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def start(request):
    provider = _provider(request)
    try:
        url, flow = provider.start(request.route_url("login_oidc_callback"))
    except ProviderUnavailable as exc:
        return _refused(request, exc)
    flow["came_from"] = request.params.get("came_from", "")[:2000]
    request.session[FLOW] = flow
    return HTTPFound(location=url)


@view_config(route_name="login_oidc_callback", request_method="GET", renderer="login.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def callback(request):
    provider = _provider(request)
    flow = request.session.pop(FLOW, None)  # one answer per flow, whatever it is
    came_from = flow.get("came_from", "") if isinstance(flow, dict) else ""
    try:
        profile = provider.profile(provider.finish(request.route_url("login_oidc_callback"), flow, request.GET))
        # a GET's own transaction is doomed (anarepo.db): provision in one of its own
        reserved = reserved_owner_names(request.registry)
        login, epoch = in_own_transaction(get_db(request.registry), lambda root: _provision(root, profile, reserved))
    except (FlowRefused, ProviderUnavailable, SignInRefused) as exc:
        return _refused(request, exc, came_from)
    headers = remember(request, login, epoch=epoch)
    return HTTPFound(location=safe_next_url(request, came_from), headers=headers)


def _provision(root, profile, reserved):
    user = provision(root, "oidc", profile, reserved=reserved)
    return user.login, user.session_epoch


def includeme(config):
    config.add_route("login_oidc", "/account/login/oidc")
    config.add_route("login_oidc_callback", "/account/login/oidc/callback")
    config.scan(__name__)
