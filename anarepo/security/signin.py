"""Password sign-in: the one identity check behind the web login form and
``POST /api/authentications`` (``anaconda login --username --password``).

A name decides the way: a local account checks its argon2 password (when
``anarepo.allow_local_passwords`` allows it, or it is a listed break-glass
administrator); a name the directory provisioned, or a new name while LDAP is
configured, goes to the directory; anything else (an organization, an OpenID
Connect account, an unknown name) costs one dummy password check and fails.
Every attempt runs under the login throttle (:mod:`anarepo.security.throttle`):
failures count per account and per address; a directory outage counts for
nobody and is :class:`~anarepo.security.directory.DirectoryUnavailable` (503).
"""
from __future__ import annotations

from pyramid.settings import asbool, aslist

from ..services.accounts import authenticate
from ..db import get_db
from ..names import reserved_owner_names
from .directory import get_directory
from .external import SignInRefused, external_account, provision
from .passwords import verify_password
from .policy import app_root
from .throttle import Throttled, keys_for, record_failure, record_success, throttle_settings, wait_left
from .totp import active_factor, code_keys

CODE_LENGTH = 6


class SecondFactorRequired(SignInRefused):
    """An API password sign-in of an account with two-step verification lacks a right code.

    403, not 401: anaconda-client turns every 401 of a login into "Invalid Username
    password combination" and asks again, hiding this text; a 403 is printed."""

    def __init__(self):
        super().__init__("this account uses two-step verification: append the current 6-digit code to the"
                         " password (anaconda login --username NAME --password PASSWORD123456), or sign in"
                         " with the browser")


def local_password_allowed(settings, user) -> bool:
    """``anarepo.allow_local_passwords`` (default true), or a break-glass admin
    listed in ``anarepo.break_glass_admins``."""
    if asbool(settings.get("anarepo.allow_local_passwords", True)):
        return True
    return user.is_admin and user.login in aslist(settings.get("anarepo.break_glass_admins", "") or "")


def _local(request, root, login: str, password: str, code_appended: bool = False):
    """A local account's password check; with ``code_appended`` (the API) an account
    with two-step verification must send its code after the password."""
    target = root.get_owner(login)
    factor = active_factor(target) if code_appended and target is not None else None
    code = None
    with request.registry.anarepo_hash_slots.slot():
        if factor is not None:
            code = password[-CODE_LENGTH:]
            user = authenticate(root, login, password[:-CODE_LENGTH]) if code.isdigit() else None
            if user is None and authenticate(root, login, password) is not None:
                code = ""  # the password without a code
                user = target
        else:
            user = authenticate(root, login, password)
    if user is not None and not local_password_allowed(request.registry.settings, user):
        raise SignInRefused("password sign-in with local accounts is turned off on this site;"
                            " sign in with your directory or identity provider account")
    if user is not None and factor is not None and check_code(request, user, code) is None:
        raise SecondFactorRequired()
    return user


def check_code(request, user, code: str, allow_recovery: bool = False) -> str | None:
    """``"totp"`` or ``"recovery"`` when ``code`` is the user's second factor, else None.

    Throttled under the account's own code counter (and the address); raises
    :class:`~anarepo.security.throttle.Throttled` while it must wait.
    """
    registry = request.registry
    keys = code_keys(user.login, request.remote_addr)
    left = wait_left(app_root(request), keys, throttle_settings(registry))
    if left > 0:
        raise Throttled(f"too many wrong codes; try again in {int(left + 0.999)} s", left)
    factor = active_factor(user)
    used = None
    if factor is not None and code:
        if factor.verify(code):
            used = "totp"
        elif allow_recovery and factor.use_recovery_code(code):
            used = "recovery"
    db = get_db(registry)
    if used is None:
        record_failure(db, keys)
    else:
        record_success(db, user.login, key=keys[0])
    return used


def confirm_password(request, user, password: str) -> bool:
    """Whether ``password`` is the signed-in ``user``'s own, for the forms that ask for it
    again (changing it, turning two-step verification off).

    Runs under the login throttle and the hash slots like a sign-in (per account and
    address; raises :class:`~anarepo.security.throttle.Throttled`), so a borrowed or
    stolen session cannot guess the password faster than the login form allows.
    """
    registry = request.registry
    keys = keys_for(user.login, request.remote_addr)
    left = wait_left(app_root(request), keys, throttle_settings(registry))
    if left > 0:
        raise Throttled(f"too many wrong passwords; try again in {int(left + 0.999)} s", left)
    with registry.anarepo_hash_slots.slot():
        right = verify_password(user.password_hash, password)
    db = get_db(registry)
    if right:
        record_success(db, user.login)
    else:
        record_failure(db, keys)
    return right


def password_sign_in(request, login: str, password: str, code_appended: bool = False):
    """The user whose name and password these are, or None.

    The web form asks for a second factor afterwards (:func:`check_code`); the API
    passes ``code_appended``: the code follows the password (:class:`SecondFactorRequired`).

    Raises :class:`~anarepo.security.throttle.Throttled` (429) while the account or
    address must wait, :class:`SignInRefused` (403) for a refused way of signing
    in, ``DirectoryUnavailable`` (503) when the directory cannot be reached.
    """
    registry = request.registry
    keys = keys_for(login, request.remote_addr)
    root = app_root(request)
    left = wait_left(root, keys, throttle_settings(registry))
    if left > 0:
        raise Throttled(f"too many failed logins; try again in {int(left + 0.999)} s", left)
    existing = root.get_owner(login or "") if login else None
    account = external_account(root, existing.login) if existing is not None else None
    directory = get_directory(registry)
    if existing is not None and existing.kind == "user" and account is None:
        user = _local(request, root, login, password, code_appended)
    elif directory is not None and (existing is None or (account is not None and account.source == "ldap")):
        entry = directory.authenticate(login, password)
        user = provision(root, "ldap", directory.profile(entry), reserved=reserved_owner_names(registry)) \
            if entry is not None else None
    else:
        user = _local(request, root, login, password)  # fails, at the cost of a real check
    db = get_db(registry)
    if user is None:
        record_failure(db, keys)
    else:
        record_success(db, user.login)
    return user
