"""Account settings: change the password, create and revoke access tokens."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.security import remember
from pyramid.view import view_config

from ..db import root_factory
from ..security.external import external_account
from ..security.passwords import WeakPassword, check_password_policy, set_password
from ..security.permissions import P, InvalidScope, scope_table
from ..security.signin import confirm_password
from ..security.throttle import Throttled
from ..security.tokens import TokenError, create_token, revoke_token, tokens_of

MAX_EXPIRY_DAYS = 3650


def account_factory(request):
    """The logged-in user is the context of account pages (the root otherwise)."""
    identity = request.identity
    return identity.user if identity is not None else root_factory(request)


def session_account_factory(request):
    """The password and token pages need a web session: a token (even an ``all``
    token in a ``/t/<token>/`` URL) never opens them, so a leaked token cannot mint
    more tokens or lock the owner out."""
    identity = request.identity
    return identity.user if identity is not None and identity.method == "session" else root_factory(request)


def own_account_page(route_name: str, renderer: str | None = None, method: str | None = None):
    """``view_config`` of a page of the requester's own account (password, tokens,
    two-step verification): the context is the session's user
    (:func:`session_account_factory`) and the permission ``account``."""
    return view_config(route_name=route_name, renderer=renderer, permission=P.ACCOUNT, request_method=method)


def show_refusal(request, message: str, status: int = 400, retry_after: str | None = None) -> str:
    """Set the status (and ``Retry-After`` of a throttled attempt) of an account form
    shown again with ``message``; returns the message for the template."""
    request.response.status = status
    if retry_after is not None:
        request.response.headers["Retry-After"] = retry_after
    return message


def _tokens_view(request, **extra):
    user = request.context
    values = {
        "user": user,
        "tokens": sorted(tokens_of(root_factory(request), user), key=lambda t: t.created, reverse=True),
        "scopes": {name: (scope.description,) for name, scope in scope_table(request).items()},
        "new_token": None,
        "new_token_name": None,
        "form_name": "",
        "error": None,
        "max_expiry_days": MAX_EXPIRY_DAYS,
    }
    values.update(extra)
    return values


@own_account_page("account", "account.jinja2")
def settings(request):
    user = request.context
    error = None
    external = external_account(root_factory(request), user.login)
    if request.method == "POST" and external is None:
        current = request.POST.get("current_password", "")
        new = request.POST.get("new_password", "")
        try:
            if not confirm_password(request, user, current):
                raise WeakPassword("the current password is not correct")
            if new != request.POST.get("new_password_confirm", ""):
                raise WeakPassword("the two new passwords differ")
            check_password_policy(new)
        except Throttled as exc:
            error = show_refusal(request, exc.detail, exc.status_int, exc.headers["Retry-After"])
        except WeakPassword as exc:
            error = show_refusal(request, str(exc))
        else:
            set_password(user, new)
            user.end_sessions()  # every other browser is logged out
            message = "Your password was changed; other sessions were logged out."
            if request.POST.get("revoke_tokens"):
                root = root_factory(request)
                doomed = list(tokens_of(root, user))
                for token in doomed:
                    revoke_token(root, token)
                message += f" {len(doomed)} access token(s) were revoked."
            headers = remember(request, user.login)
            request.session.flash(message)
            return HTTPFound(location=request.route_url("account"), headers=headers)
    elif request.method == "POST":
        error = show_refusal(request, "this account's password is kept by its directory or identity provider")
    return {"user": user, "error": error, "external": external.source if external is not None else None}


@own_account_page("tokens", "tokens.jinja2", "GET")
def tokens(request):
    return _tokens_view(request)


@own_account_page("tokens", "tokens.jinja2", "POST")
def create(request):
    user = request.context
    name = request.POST.get("name", "")
    scopes = request.POST.getall("scopes")
    days = request.POST.get("expires_days", "").strip()
    try:
        max_age = None
        if days:
            if not (days.isascii() and days.isdigit()) or not 0 < int(days) <= MAX_EXPIRY_DAYS:
                raise TokenError(f"expiry must be a number of days from 1 to {MAX_EXPIRY_DAYS}")
            max_age = int(days) * 24 * 3600
        raw, token = create_token(
            root_factory(request), user, name, scopes or None, max_age=max_age,
            remote_addr=request.remote_addr or "", note_url=request.application_url,
            known_scopes=scope_table(request),
        )
    except (TokenError, InvalidScope) as exc:
        request.response.status = 409 if "exists" in str(exc) else 400
        return _tokens_view(request, error=str(exc), form_name=name)
    request.response.cache_control.no_store = True
    return _tokens_view(request, new_token=raw, new_token_name=token.name)


@own_account_page("token_revoke", method="POST")
def revoke(request):
    user = request.context
    name = request.POST.get("name", "")
    digest = user.token_names.get(name)
    if digest is not None:
        revoke_token(root_factory(request), root_factory(request).tokens[digest])
        request.session.flash(f"Token {name!r} was revoked.")
    return HTTPFound(location=request.route_url("tokens"))


def includeme(config):
    config.add_route("account", "/account/settings", factory=session_account_factory)
    config.add_route("tokens", "/account/tokens", factory=session_account_factory)
    config.add_route("token_revoke", "/account/tokens/revoke", factory=session_account_factory)
    config.scan(__name__)
