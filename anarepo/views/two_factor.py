"""``/account/two-factor``: turn TOTP two-step verification on and off, renew recovery codes.

Needs a web session (like the password page): a token never opens it.  Only
local accounts have it; directory and OpenID Connect users get their second
factor from their identity provider.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.security import remember
from ..db import root_factory
from ..security.external import external_account
from ..security.policy import session_auth_time
from ..security.signin import check_code, confirm_password
from ..security.throttle import Throttled
from ..security.totp import active_factor, begin_enrollment, provisioning_uri, qr_svg
from .account import own_account_page, session_account_factory, show_refusal


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


def _refuse(request, message, status=400, retry_after=None):
    return _page(request, error=show_refusal(request, message, status, retry_after))


@own_account_page("two_factor", "two_factor.jinja2", "GET")
def show(request):
    return _page(request)


@own_account_page("two_factor", "two_factor.jinja2", "POST")
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
        # ... this one goes on, in a fresh session, signed in when it was
        remember(request, user.login, auth_time=session_auth_time(request) or 0)
        return _page(request, recovery_codes=factor.new_recovery_codes())
    if action in ("disable", "recovery"):
        if active_factor(user) is None:
            return _refuse(request, "two-step verification is off")
        try:
            if action == "disable" and not confirm_password(request, user, request.POST.get("password", "")):
                return _refuse(request, "the password is not correct")
            used = check_code(request, user, code, allow_recovery=action == "disable")
        except Throttled as exc:
            return _refuse(request, exc.detail, exc.status_int, exc.headers["Retry-After"])
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
