"""The one Pyramid 2 security policy: who is asking, and may they do it here?

Identity, in order: the ``/t/<token>/`` path segment, ``Authorization: token``,
``Authorization: Bearer``, HTTP Basic with a token as the password (twine's
``__token__``), then the signed session cookie (only on faces registered with
``sessions=True``: the web).  The result of
:meth:`AnarepoSecurityPolicy.authenticate` is a value: an :class:`Identity`,
nobody (``None``), or a :class:`BadCredential` for a credential that is present
but wrong (unknown, expired, revoked token, malformed Basic).  A bad credential
identifies nobody, every permission check fails, and the forbidden view answers
401 with its reason, so a client learns at once that its token is bad
(``request.bad_credential``).

``permits`` checks the token's scopes for the face (the registered face the
path addresses, :mod:`anarepo.plugins.faces`) first, then an org token's
namespace: outside them the token grants nothing beyond what anybody has.  Then
the ACL of the context decides for the identity's principals.

Users of a directory or an OpenID Connect provider are re-checked with their
source every few minutes (:func:`~anarepo.security.external.still_active`):
a removed one's session ends and its tokens are refused.
"""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from pyramid.request import RequestLocalCache
from pyramid.security import Denied
from pyramid_zodbconn import get_connection

from ..http.middleware import TOKEN_ENV
from ..plugins.faces import face_of
from .permissions import (
    SITE_ADMIN,
    P,
    group_principal,
    org_member_principal,
    org_owner_principal,
    scope_table,
    scopes_allow,
    typed_read_types,
    user_principal,
)
from .external import still_active
from .tokens import lookup_token

SESSION_LOGIN = "login"
INACTIVE = "the account was removed or disabled in its directory, or must sign in there again"
SESSION_EPOCH = "epoch"
#: when the session's user last proved who they are (password, code, the upstream
#: provider): the OpenID Connect provider's ``auth_time``, ``max_age`` and ``prompt=login``
SESSION_AUTH_TIME = "auth_time"


def session_auth_time(request) -> int | None:
    """When the web session's user signed in (None: a session from before this was kept)."""
    value = request.session.get(SESSION_AUTH_TIME)
    return value if isinstance(value, int) else None


@dataclass
class Identity:
    """The requester: a user, and the token they came with (if any)."""

    user: object
    token: object = None
    method: str = "session"  # session | token
    principals: list = field(default_factory=list)

    @property
    def login(self) -> str:
        return self.user.login


@dataclass(frozen=True)
class BadCredential:
    """A credential was sent but refused; ``reason`` is what the client is told."""

    reason: str


def app_root(request):
    """The anarepo Root, reachable before traversal has run."""
    return get_connection(request).root()["anarepo"]


def request_face(request) -> str:
    """The name of the face a request addresses (the registered faces decide:
    :mod:`anarepo.plugins.faces`)."""
    return face_of(request).name


def _authorization_credential(request):
    """(kind, value) from the Authorization header, or None."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("token", "bearer"):
        return ("token", value)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
            return ("invalid", "malformed Basic credentials")
        username, _, password = decoded.partition(":")
        # a token as the password (``__token__`` for twine, anything for pip URLs);
        # user/password pairs are only for POST /api/authentications, which reads them itself
        if username == "__token__" or password.startswith("ar-"):
            return ("token", password)
        return ("password", (username, password))
    return None


def principals_for(root, user) -> list[str]:
    principals = [Everyone, Authenticated, user_principal(user.login)]
    if user.is_admin:
        principals.append(SITE_ADMIN)
    for org_login in user.organizations:
        org = root.owners.get(org_login)
        if org is None or org.kind != "org":
            continue
        principals.append(org_member_principal(org_login))
        if user.login in org.owners:
            principals.append(org_owner_principal(org_login))
        for group in org.groups.values():
            if user.login in group.members:
                principals.append(group_principal(org_login, group.name))
    return principals


def _file_types(context) -> set[str]:
    """The file types a context holds: a file's own, a package's (or a release's) all."""
    from ..resources.packages import Distribution, Package, Release

    if isinstance(context, Distribution):
        return {context.type}
    if isinstance(context, Release):
        context = context.package
    if isinstance(context, Package):
        return set(context.package_types)
    return set()


def token_reads_by_type(request, context, permission) -> bool:
    """Whether the request's token may ``permission`` here only through a typed
    read scope (``conda:download`` reading conda files on the API face)."""
    identity = request.identity
    token = identity.token if identity is not None else None
    if token is None:
        return False
    types = typed_read_types(scope_table(request), token.scopes, face_of(request), permission)
    return bool(types) and bool(types & _file_types(context))


def reads_only_some_types(request) -> bool:
    """Whether the token's API reads are limited to some file types (lists of a
    package's files then show only the files it may read)."""
    identity = request.identity
    token = identity.token if identity is not None else None
    if token is None:
        return False
    face, table = face_of(request), scope_table(request)
    return (not scopes_allow(table, token.scopes, face.name, "view")
            and bool(typed_read_types(table, token.scopes, face, "view")))


def token_acts(request, identity, context, permission) -> bool:
    """Whether the requester's credential counts for ``permission`` on ``context``: a
    session always; a token only within its scopes (on this face) and its organization."""
    token = identity.token
    if token is None:
        return True
    return bool(
        (scopes_allow(scope_table(request), token.scopes, request_face(request), permission)
         or token_reads_by_type(request, context, permission))
        and not (token.org and not _inside(context, token.org))
    )


def acting_login(request, context, permission=P.VIEW) -> str | None:
    """The requester's login where their credential counts (:func:`token_acts`), else
    None: listings that name what a user may see (their groups, memberships) ask
    this, so a token adds nothing outside its scopes there either."""
    identity = request.identity
    if identity is None or not token_acts(request, identity, context, permission):
        return None
    return identity.login


def _inside(context, owner_login: str) -> bool:
    """Whether ``context`` lies in the namespace of ``owner_login``."""
    node = context
    while node is not None:
        if getattr(node, "login", None) == owner_login and hasattr(node, "packages"):
            return True
        anchor = getattr(node, "owner_login", None)
        if anchor is not None:
            return anchor == owner_login
        node = getattr(node, "__parent__", None)
    return False


class AnarepoSecurityPolicy:
    def __init__(self):
        self.cache = RequestLocalCache(self._authenticate)
        self.acl = ACLHelper()

    # -- identity -------------------------------------------------------------
    def authenticate(self, request) -> Identity | BadCredential | None:
        """Who is asking, computed once per request."""
        return self.cache.get_or_create(request)

    def identity(self, request):
        result = self.authenticate(request)
        return result if isinstance(result, Identity) else None

    def _authenticate(self, request) -> Identity | BadCredential | None:
        root = app_root(request)
        raw = request.environ.get(TOKEN_ENV)
        credential = ("token", raw) if raw else _authorization_credential(request)
        if credential is not None:
            kind, value = credential
            if kind == "invalid":
                return BadCredential(value)
            if kind == "token":
                token, reason = lookup_token(root, value)
                if token is None:
                    return BadCredential(reason)
                user = root.owners[token.user]
                if not still_active(request, root, user):
                    return BadCredential(INACTIVE)
                return Identity(user, token, "token", principals_for(root, user))
            # a password pair: not an identity here (see _authorization_credential)
        if not face_of(request).sessions:  # only the web face reads the session cookie
            return None
        session = request.session
        login = session.get(SESSION_LOGIN)
        if not login:
            return None
        user = root.owners.get(login)
        if (
            user is None
            or user.kind != "user"
            or user.disabled
            or session.get(SESSION_EPOCH) != user.session_epoch
            or not still_active(request, root, user)
        ):
            session.invalidate()
            return None
        return Identity(user, None, "session", principals_for(root, user))

    def authenticated_userid(self, request):
        identity = self.identity(request)
        return identity.login if identity else None

    # -- authorization --------------------------------------------------------
    def permits(self, request, context, permission):
        identity = self.authenticate(request)
        if isinstance(identity, BadCredential):
            return Denied(f"credentials refused: {identity.reason}")
        if identity is None:
            return self.acl.permits(context, [Everyone], permission)
        if not token_acts(request, identity, context, permission):
            # outside its scopes (or its organization) a token adds nothing:
            # the requester has what anybody has
            return self.acl.permits(context, [Everyone], permission)
        return self.acl.permits(context, identity.principals, permission)

    # -- sessions -------------------------------------------------------------
    def remember(self, request, userid, epoch=None, auth_time=None, **kw):
        """Start a web session: a fresh session (no fixation) bound to the user epoch.

        ``epoch``: for a user this request's transaction cannot see yet (made in a
        transaction of its own by a GET, as a sign-in callback does).  ``auth_time``:
        when the user proved who they are, if not just now (a session renewed
        without a sign-in keeps its own)."""
        if epoch is None:
            epoch = app_root(request).owners[userid].session_epoch
        request.session.invalidate()
        request.session[SESSION_LOGIN] = userid
        request.session[SESSION_EPOCH] = epoch
        request.session[SESSION_AUTH_TIME] = int(time.time()) if auth_time is None else int(auth_time)
        request.session.new_csrf_token()
        self.cache.clear(request)
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        self.cache.clear(request)
        return []


def bad_credential(request) -> BadCredential | None:
    """The refused credential the request carries, if any (``request.bad_credential``)."""
    result = request.registry.getUtility(ISecurityPolicy).authenticate(request)
    return result if isinstance(result, BadCredential) else None


def token_identity(request) -> Identity | None:
    """The identity when it comes from a valid token (path or header), else None."""
    identity = request.identity
    return identity if identity is not None and identity.method == "token" else None
