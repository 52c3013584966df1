"""Sign up, log in (with a second step for two-step verification) and log out (web sessions)."""
from __future__ import annotations

import time

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from ..services.accounts import create_user
from ..names import InvalidName, reserved_owner_names
from ..errors import Conflict
from ..security.passwords import WeakPassword
from ..security.directory import DirectoryUnavailable
from ..security.external import SignInRefused
from ..security.signin import check_code, password_sign_in
from ..security.throttle import Throttled
from ..security.totp import PENDING_SECONDS, active_factor
from .helpers import safe_next_url


@view_config(route_name="login", renderer="login.jinja2", permission=NO_PERMISSION_REQUIRED)
def login(request):
    came_from = request.params.get("came_from", "")
    upstream = request.registry.anarepo_upstream_oidc
    values = {"login": "", "came_from": came_from, "error": None,
              "oidc_title": upstream.config.title if upstream is not None else None}
    if request.method == "POST":
        values["login"] = request.POST.get("login", "")[:64]
        try:
            user = password_sign_in(request, values["login"], request.POST.get("password", ""))
        except (Throttled, DirectoryUnavailable, SignInRefused) as exc:
            request.response.status = exc.status_int
            if "Retry-After" in exc.headers:
                request.response.headers["Retry-After"] = exc.headers["Retry-After"]
            values["error"] = exc.detail
            return values
        if user is not None:
            if active_factor(user) is not None:
                return _ask_for_code(request, user, came_from)
            headers = remember(request, user.login)
            return HTTPFound(location=safe_next_url(request, came_from), headers=headers)
        request.response.status = 400
        values["error"] = "Invalid user name or password."
    return values


# -- the second step of a sign-in with two-step verification --------------------------
PENDING = "pending_login"  # session key: {login, epoch, until, came_from}; no identity yet


def _ask_for_code(request, user, came_from: str):
    """The password was right: the session remembers that (for a few minutes), not the user."""
    request.session.invalidate()
    request.session[PENDING] = {"login": user.login, "epoch": user.session_epoch,
                                "until": time.time() + PENDING_SECONDS, "came_from": came_from}
    return HTTPFound(location=request.route_url("login_code"))


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None, None
    user = request.root.owners.get(pending.get("login") or "")
    if user is None or user.kind != "user" or user.disabled or user.session_epoch != pending.get("epoch"):
        return None, None
    return user, pending


@view_config(route_name="login_code", renderer="login_code.jinja2", permission=NO_PERMISSION_REQUIRED)
def login_code(request):
    """The code from the authenticator app, or a recovery code, after the password."""
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(PENDING, None)
        request.session.flash("Sign in again: the time for the code ran out.")
        return HTTPFound(location=request.route_url("login"))
    values = {"error": None}
    if request.method == "POST":
        try:
            used = check_code(request, user, request.POST.get("code", "")[:64], allow_recovery=True)
        except Throttled as exc:
            request.response.status = exc.status_int
            request.response.headers["Retry-After"] = exc.headers["Retry-After"]
            values["error"] = exc.detail
            return values
        if used is not None:
            headers = remember(request, user.login)  # a fresh session: the pending state goes
            if used == "recovery":
                left = len(user.second_factor.recovery)
                request.session.flash(f"You used a recovery code; {left} left. Make new ones on the"
                                      " two-step verification page if you are running out.")
            return HTTPFound(location=safe_next_url(request, pending.get("came_from")), headers=headers)
        request.response.status = 400
        values["error"] = "Invalid code."
    return values


@view_config(route_name="logout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def logout(request):
    identity = request.identity
    if identity is not None and identity.method == "session":
        identity.user.end_sessions()  # a copied cookie of this login stops working too
    headers = forget(request)
    return HTTPFound(location=request.application_url + "/", headers=headers)


@view_config(route_name="signup", renderer="signup.jinja2", permission=NO_PERMISSION_REQUIRED)
def signup(request):
    settings = request.registry.settings
    if not settings["anarepo.allow_signup"] or not settings["anarepo.allow_local_passwords"]:
        raise HTTPNotFound()  # a local account could not sign in
    values = {"login": "", "email": "", "error": None}
    if request.method == "POST":
        values["login"] = request.POST.get("login", "")[:100]
        values["email"] = request.POST.get("email", "")[:300]
        password = request.POST.get("password", "")
        try:
            if password != request.POST.get("password_confirm", ""):
                raise WeakPassword("the two passwords differ")
            user = create_user(request.root, values["login"], values["email"], password,
                               reserved=reserved_owner_names(request.registry))
        except (InvalidName, WeakPassword, Conflict) as exc:
            request.response.status = 409 if isinstance(exc, Conflict) else 400
            values["error"] = str(exc)
            return values
        headers = remember(request, user.login)
        request.session.flash(f"Welcome, {user.login}! Your account is ready.")
        return HTTPFound(location=request.resource_url(user), headers=headers)
    return values


def includeme(config):
    config.add_route("login", "/account/login")
    config.add_route("login_code", "/account/login/code")
    config.add_route("logout", "/account/logout")
    config.add_route("signup", "/account/signup")
    config.scan(__name__)
