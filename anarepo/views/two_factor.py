"""``/account/two-factor``: turn TOTP two-step verification on and off, renew recovery codes.

Needs a web session (like the password page): a token never opens it.  Only
local accounts have it; directory and OpenID Connect users get their second
factor from their identity provider.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.security import remember
from pyramid.view import view_config

from ..db import root_factory
from ..security.external import external_account
from ..security.passwords import verify_password
from ..security.permissions import P
from ..security.signin import check_code
from ..security.throttle import Throttled
from ..security.totp import active_factor, begin_enrollment, provisioning_uri, qr_svg
from .account import session_account_factory


def _page(request, **extra):
    user = request.context
    factor = user.second_factor
    values = {"user": user, "active": active_factor(user) is not None, "pending": None, "qr": None,
              "uri": None, "recovery_codes": None, "error": None,
              "external": external_account(root_factory(request), user.login) is not None,
              "recovery_left": len(factor.recovery) if factor is not None and factor.confirmed else 0}
    if factor is not None and not factor.confirmed:
        uri = provisioning_uri(factor, user.login, request.registry.settings["anarepo.site_name"])
        values.update(pending=factor.secret, uri=uri, qr=qr_svg(uri))
    values.update(extra)
    request.response.cache_control.no_store = True  # secrets and recovery codes
    return values


def _refuse(request, message, status=400, **extra):
    request.response.status = status
    return _page(request, error=message, **extra)


@view_config(route_name="two_factor", renderer="two_factor.jinja2", permission=P.ACCOUNT, request_method="GET")
def show(request):
    return _page(request)


@view_config(route_name="two_factor", renderer="two_factor.jinja2", permission=P.ACCOUNT, request_method="POST")
def change(request):
    user = request.context
    action = request.POST.get("action", "")
    code = request.POST.get("code", "")[:64]
    if external_account(root_factory(request), user.login) is not None:
        return _refuse(request, "your identity provider or directory handles two-step verification for this account")
    if action == "begin":
        if active_factor(user) is not None:
            return _refuse(request, "two-step verification is on already", 409)
        begin_enrollment(user)
        return HTTPFound(location=request.route_url("two_factor"))
    if action == "confirm":
        factor = user.second_factor
        if factor is None or factor.confirmed:
            return _refuse(request, "start the set-up first")
        if not factor.verify(code):
            return _refuse(request, "that code is not right; check the app's clock and try the next code")
        factor.confirmed = True
        user.end_sessions()  # other browsers signed in without the second factor ...
        remember(request, user.login)  # ... this one goes on, in a fresh session
        return _page(request, recovery_codes=factor.new_recovery_codes())
    if action in ("disable", "recovery"):
        if active_factor(user) is None:
            return _refuse(request, "two-step verification is off")
        if action == "disable" and not verify_password(user.password_hash, request.POST.get("password", "")):
            return _refuse(request, "the password is not correct")
        try:
            used = check_code(request, user, code, allow_recovery=action == "disable")
        except Throttled as exc:
            request.response.headers["Retry-After"] = exc.headers["Retry-After"]
            return _refuse(request, exc.detail, exc.status_int)
        if used is None:
            return _refuse(request, "that code is not right")
        if action == "recovery":
            return _page(request, recovery_codes=user.second_factor.new_recovery_codes())
        user.second_factor = None
        request.session.flash("Two-step verification is off.")
        return HTTPFound(location=request.route_url("two_factor"))
    return _refuse(request, "unknown action")


def includeme(config):
    config.add_route("two_factor", "/account/two-factor", factory=session_account_factory)
    config.scan(__name__)
