"""Sign up, log in and log out (web sessions)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from ..accounts import create_user
from ..names import InvalidName
from ..errors import Conflict
from ..security.passwords import WeakPassword
from ..security.directory import DirectoryUnavailable
from ..security.external import SignInRefused
from ..security.signin import password_sign_in
from ..security.throttle import Throttled
from .helpers import safe_next_url


@view_config(route_name="login", renderer="login.jinja2", permission=NO_PERMISSION_REQUIRED)
def login(request):
    came_from = request.params.get("came_from", "")
    values = {"login": "", "came_from": came_from, "error": None}
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
            headers = remember(request, user.login)
            return HTTPFound(location=safe_next_url(request, came_from), headers=headers)
        request.response.status = 400
        values["error"] = "Invalid user name or password."
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
            user = create_user(request.root, values["login"], values["email"], password)
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
    config.add_route("logout", "/account/logout")
    config.add_route("signup", "/account/signup")
    config.scan(__name__)
