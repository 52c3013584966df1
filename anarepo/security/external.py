"""Accounts whose identity lives elsewhere: a directory (LDAP) or an OpenID Connect provider.

``root.external_accounts`` says which users sign in through which source
(``ldap``, ``oidc``) and when the source last vouched for them.  Such a user has
no local password.  The first sign-in provisions the account
(:func:`provision`); every sign-in, and every re-check, sets the organization
groups the source maps (:func:`sync_groups`).

Removed or disabled users lose access within a bound: the policy asks
:func:`still_active` on every request that carries a session or a token of an
external user, and once ``recheck_interval`` seconds have passed since the last
check, the source is asked again (a source registers its checker with
:func:`register_checker`).  A user the source no longer knows is marked
inactive — sessions and tokens are refused until a later successful sign-in.
While the source cannot be reached the last verdict stands, and it is asked
again at most every ``OUTAGE_RETRY`` seconds (docs/security.md, "Sign-in").
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.httpexceptions import HTTPClientError

from .. import names
from ..errors import Conflict, NotFound

log = logging.getLogger(__name__)

OUTAGE_RETRY = 30.0


class SignInRefused(HTTPClientError):
    """Credentials may be right, but this sign-in is not allowed; the text says why.

    403, but not an ``HTTPForbidden``: that one is the forbidden view's (which
    would answer 401 to the anonymous requester a sign-in has)."""

    code = 403
    title = "Forbidden"


@dataclass(frozen=True)
class ExternalProfile:
    """What a source says about a user at sign-in or re-check."""

    login: str
    subject: str  # ``uuid:<entry id>|<dn>`` (or the DN) of a directory entry, or ``issuer|sub``
    email: str = ""
    name: str = ""
    groups: frozenset = frozenset()  # (org, group) pairs the user is in
    mapped: frozenset = field(default=frozenset())  # every (org, group) pair the source manages


def map_groups(group_map, held) -> dict:
    """``groups`` and ``mapped`` of a profile: ``group_map`` is ((key, org, group), ...)
    — directory group DNs or claim values — and ``held`` the keys the user has."""
    return {"groups": frozenset((org, group) for key, org, group in group_map if key in held),
            "mapped": frozenset((org, group) for _key, org, group in group_map)}


class ExternalAccount(Persistent):
    """One user's link to its source; concurrent re-checks and sign-ins merge (see
    :meth:`_p_resolveConflict`)."""

    def __init__(self, source: str, subject: str):
        self.source = source
        self.subject = subject
        self.checked = 0.0
        self.active = True

    def _p_resolveConflict(self, old, committed, new):
        """The newer check's fields win, except ``active``: a change of it made by either
        side is kept.  A re-check that found the user removed, committed while another
        request's later re-check (begun before it, from the old state) only moved
        ``checked``, must not be undone by it; both sides can only change ``active`` the
        same way (away from the old value)."""
        merged = dict(new if new.get("checked", 0.0) >= committed.get("checked", 0.0) else committed)
        was = (old or {}).get("active", True)
        for side in (committed, new):
            if side.get("active", True) != was:
                merged["active"] = side.get("active", True)
        return merged


class ExternalAccounts(Persistent):
    def __init__(self):
        self.accounts = OOBTree()  # login -> ExternalAccount


def create_external_accounts(root) -> None:
    """Evolve step: databases from before external sign-in get the (empty) registry."""
    root.external_accounts = ExternalAccounts()


def external_account(root, login: str) -> ExternalAccount | None:
    return root.external_accounts.accounts.get(login)


def provision(root, source: str, profile: ExternalProfile, now: float | None = None, *, reserved):
    """The user for a profile the source vouched for, created at the first sign-in.

    A name held by a local account (or one of another source) is never taken
    over: that is :class:`SignInRefused`; nor is a reserved name (``reserved``:
    ``names.reserved_owner_names(registry)``, the faces' mounts among them).
    """
    from ..resources.owners import User

    try:
        login = names.check_owner_name(profile.login, reserved)
    except names.InvalidName:
        raise SignInRefused(f"the name {profile.login!r} from {source} cannot be an account name here") from None
    email = _valid_email(profile.email)
    user = root.owners.get(login)
    account = external_account(root, login)
    if user is None:
        user = User(login, email)
        user.name = profile.name[:200]
        root.owners.add(login, user)
        account = ExternalAccount(source, profile.subject)
        root.external_accounts.accounts[login] = account
        log.info("provisioned %s from %s", login, source)
    elif user.kind != "user" or account is None or account.source != source:
        raise SignInRefused(f"the name {login!r} belongs to an account that does not sign in through {source}")
    elif not same_identity(account.subject, profile.subject):
        raise SignInRefused(f"the name {login!r} belongs to another {source} identity")
    if user.disabled:
        raise SignInRefused("this account is disabled")
    if email and user.email != email:
        user.email = email
    if account.subject != profile.subject:
        account.subject = profile.subject
    account.checked = time.time() if now is None else now
    account.active = True
    sync_groups(root, user, profile)
    return user


def same_identity(recorded: str, given: str) -> bool:
    """Whether a source's subject is still the account's person.  An OpenID Connect
    ``issuer|sub`` is stable and compared whole.  A directory entry is known by its
    unique id (``uuid:<id>|<dn>``): its DN may move (renames, OUs), but another entry
    under a reused name is another person; a record from before ids (a bare DN) takes
    the entry it finds, as it always did, and keeps its id from then on."""
    if recorded == given:
        return True
    if recorded.startswith("uuid:") and given.startswith("uuid:"):
        return recorded.partition("|")[0] == given.partition("|")[0]
    if recorded.startswith("uuid:") != given.startswith("uuid:"):
        return not recorded.startswith("uuid:")  # a bare DN upgrades; an id never goes back to a DN
    return "|" not in recorded  # two bare DNs: a directory entry that moved


def _valid_email(email: str) -> str:
    try:
        return names.check_email(email) if email else ""
    except names.InvalidName:
        return ""


def sync_groups(root, user, profile: ExternalProfile) -> None:
    """Make the user a member of exactly the mapped groups the source lists.

    Groups the source does not manage are left alone; a mapped organization or
    group that does not exist is logged and skipped (an administrator makes them).
    """
    from ..services.orgs import add_group_member, remove_group_member

    for org_login, group_name in sorted(profile.mapped):
        org = root.get_owner(org_login)
        group = org.groups.get(group_name) if org is not None and org.kind == "org" else None
        if group is None:
            log.warning("group mapping names %s/%s, which does not exist", org_login, group_name)
            continue
        wanted = (org_login, group_name) in profile.groups
        try:
            if wanted and user.login not in group.members:
                add_group_member(root, org, group, user.login)
            elif not wanted and user.login in group.members:
                remove_group_member(root, org, group, user.login)
        except (Conflict, NotFound):  # a concurrent change did it already
            pass


# -- re-checks -------------------------------------------------------------------
class Checker:
    """How to ask a source about a user again: ``lookup(login) -> ExternalProfile | None``
    (None: removed or disabled), raising ``unavailable`` when the source cannot answer."""

    def __init__(self, lookup, interval: float, unavailable: type[Exception]):
        self.lookup = lookup
        self.interval = interval
        self.unavailable = unavailable
        self.outage_until = 0.0
        self.lock = threading.Lock()


def register_checker(registry, source: str, checker: Checker) -> None:
    registry.anarepo_account_checkers[source] = checker


def install_source(config, source: str, attribute: str, service, interval: float,
                   unavailable: type[Exception], lookup=None) -> None:
    """Keep a sign-in source (the directory, the upstream provider; None when not
    configured) as ``registry.<attribute>`` and register how its users are checked
    again: ``lookup(login)``, or, for a source that cannot be asked without the user
    (an OpenID Connect provider), "sign in again" once ``interval`` has passed."""
    setattr(config.registry, attribute, service)
    if service is not None:
        register_checker(config.registry, source, Checker(lookup or (lambda login: None), interval, unavailable))


def still_active(request, root, user) -> bool:
    """Whether an external user's session or token may still be used (see the module doc)."""
    account = external_account(root, user.login)
    if account is None:
        return True  # a local account
    if not account.active:
        return False
    checker = request.registry.anarepo_account_checkers.get(account.source)
    now = time.time()
    if checker is None or now - account.checked < checker.interval or now < checker.outage_until:
        return True
    try:
        profile = checker.lookup(user.login)
    except checker.unavailable:
        checker.outage_until = now + OUTAGE_RETRY
        log.warning("%s cannot be reached; %s keeps its last verdict", account.source, user.login)
        return True
    active = profile is not None and same_identity(account.subject, profile.subject)

    def record(fresh_root):
        fresh = external_account(fresh_root, user.login)
        if fresh is None:
            return
        fresh.checked = now
        fresh.active = active
        target = fresh_root.owners.get(user.login)
        if active and target is not None:
            sync_groups(fresh_root, target, profile)
            email = _valid_email(profile.email)
            if email and target.email != email:
                target.email = email

    from ..db import get_db, in_own_transaction

    in_own_transaction(get_db(request.registry), record)
    if not active:
        log.info("%s is no longer in %s: access refused", user.login, account.source)
    return active


def includeme(config):
    config.registry.anarepo_account_checkers = {}
    config.add_evolve_step("anarepo.security.external.create_external_accounts", "security.external-accounts-1")
