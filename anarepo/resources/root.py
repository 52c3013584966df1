"""The root of the object tree: owners, tokens and site-wide state."""
from __future__ import annotations

import secrets

from BTrees.OOBTree import OOTreeSet
from persistent import Persistent
from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Everyone

from ..clock import utcnow
from ..names import normalize_owner
from ..security.permissions import SITE_ADMIN, P
from ..security.external import ExternalAccounts
from ..security.oidc_provider import ProviderState
from ..security.throttle import LoginThrottle
from .staging import StagingArea
from .folder import Folder
from .targets import UPLOADS, UploadTargets


class Root(Persistent):
    """``/``: traversal continues into the owner namespace (``/<owner>``)."""

    #: traversal below names an owner (a miss answers "user ... not found")
    names_owners = True

    __name__ = ""
    __parent__ = None

    def __init__(self):
        self.owners = Folder(self)  # login -> User | Organization
        self.tokens = Folder()  # sha256(token) hex -> Token
        self.secret = secrets.token_hex(32)  # signs session cookies and upload ids
        self.created = utcnow()
        self.finished_evolve_steps = OOTreeSet()
        self.login_throttle = LoginThrottle()  # failed logins per account and address
        self.external_accounts = ExternalAccounts()  # users of a directory or OIDC provider
        self.oidc_provider = ProviderState()  # OpenID Connect provider: keys, codes, access tokens
        self.staging = StagingArea()  # uploads staged by the API before their commit (anarepo.services.staging)

    def __acl__(self):
        # UPLOAD on the root = creating a namespace (an organization)
        return [(Allow, SITE_ADMIN, ALL_PERMISSIONS), (Allow, Everyone, P.VIEW), (Allow, Authenticated, P.UPLOAD)]

    def __getitem__(self, name: str):
        if name == UPLOADS:
            return UploadTargets(self)
        return self.owners[normalize_owner(name)]

    def get_owner(self, name: str):
        return self.owners.get(normalize_owner(name))

    def users(self):
        from .owners import User

        return (o for o in self.owners.values() if isinstance(o, User))


def set_folder_containers(root) -> None:
    """Evolve step: folders made before ``Folder(container)`` learn the resource
    whose children they hold, so their ``add`` locates what it adds."""
    root.owners.container = root
    for owner in root.owners.values():
        owner.packages.container = owner
        groups = getattr(owner, "groups", None)
        if groups is not None:
            groups.container = owner
        for package in owner.packages.values():
            package.releases.container = package
            for release in package.releases.values():
                release.files.container = release
