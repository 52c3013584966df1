"""Owners: users and organizations share one namespace (``/<owner>``).

An owner holds packages and labels.  Its ACL says who may act on the namespace;
each package extends it with its own access level and collaborators.
"""
from __future__ import annotations

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Everyone

from ..clock import utcnow
from .notifications import Inbox
from ..names import package_key
from ..security.permissions import (
    GROUP_LEVELS,
    SITE_ADMIN,
    P,
    group_principal,
    org_member_principal,
    org_owner_principal,
    user_principal,
)
from .folder import Folder


class Label(Persistent):
    """A label of an owner ("channel" in the anaconda.org API): ``main``, ``dev``..."""

    #: kind ("conda", "pypi") -> filters every upstream source feeding this label obeys
    #: besides its own (anarepo.sources); replaced, never mutated in place
    source_filters = {}

    def __init__(self, name: str):
        self.name = name
        self.locked = False
        self.created = utcnow()


class Owner(Persistent):
    """Common part of users and organizations."""

    kind = "owner"
    name = ""  # full name shown on pages
    description = ""
    location = ""
    url = ""
    company = ""

    def __init__(self, login: str, email: str = ""):
        self.__name__ = login
        self.__parent__ = None
        self.login = login
        self.email = email
        self.created = utcnow()
        self.packages = Folder(self)  # package_key -> Package
        self.labels = Folder()  # label -> Label
        self.labels.add("main", Label("main"))
        self.token_names = Folder()  # token name -> sha256 digest (user and org tokens)
        self.sources = Folder()  # source name -> anarepo.sources.model.Source (mirrors, proxies)
        #: plugin name -> that plugin's index state of this owner (a conda channel's
        #: records, a PyPI index...): the one home of plugin state on an owner
        #: (``plugin_state`` in :mod:`anarepo.plugins.api`)
        self.indexes = OOBTree()
        self.notices = OOBTree()  # notice id -> anarepo.resources.notices.Notice (banners on the owner's pages)

    # -- traversal -----------------------------------------------------------
    def __getitem__(self, name: str):
        return self.packages[package_key(name)]

    # -- packages ------------------------------------------------------------
    def get_package(self, name: str):
        return self.packages.get(package_key(name))

    def add_package(self, package) -> None:
        self.packages.add(package_key(package.name), package)

    def remove_package(self, name: str):
        package = self.packages.remove(package_key(name))
        return package

    # -- labels --------------------------------------------------------------
    def ensure_label(self, name: str) -> Label:
        label = self.labels.get(name)
        if label is None:
            label = Label(name)
            self.labels.add(name, label)
        return label

    # -- security ------------------------------------------------------------
    def admin_principals(self) -> list[str]:
        """Principals with every right on this namespace and its packages."""
        raise NotImplementedError

    def package_aces(self, package) -> list:
        """Extra ACEs an owner grants on one of its packages (org groups)."""
        return []

    def share_created_package(self, package, creator: str) -> None:
        """A package ``creator`` just made here gets the rights its creator came with."""

    def __acl__(self):
        acl = [(Allow, SITE_ADMIN, ALL_PERMISSIONS)]
        acl += [(Allow, p, ALL_PERMISSIONS) for p in self.admin_principals()]
        acl += self.namespace_aces()
        acl.append((Allow, Everyone, P.VIEW))
        acl.append(DENY_ALL)
        return acl

    def namespace_aces(self) -> list:
        return []


def plugin_state(owner, name: str, factory=None):
    """The state plugin ``name`` keeps for ``owner``; created with ``factory()``
    when absent and a factory is given, else None."""
    state = owner.indexes.get(name)
    if state is None and factory is not None:
        state = owner.indexes[name] = factory()
    return state


def drop_plugin_state(owner, name: str) -> None:
    """Forget plugin ``name``'s state of ``owner`` (before a rebuild)."""
    if name in owner.indexes:
        del owner.indexes[name]


def give_owners_plugin_state(root) -> None:
    """Evolve step (``core.plugin-state-1``): owners made before ``Owner.indexes``
    existed get it, empty; each plugin's own step then moves its state in."""
    for owner in root.owners.values():
        try:
            owner.indexes
        except AttributeError:
            owner.indexes = OOBTree()


def give_declared_fields(root) -> None:
    """Evolve step (``core.declared-fields-1``): what older releases made on first
    use now comes from the constructors; existing objects get it here, empty, so
    nothing is created lazily: ``root.staging``, each owner's ``notices``, each
    user's ``inbox`` and each package's ``download_history``."""
    from .staging import StagingArea

    def lacks(obj, name):
        obj._p_activate()
        return obj.__dict__.get(name) is None

    if lacks(root, "staging"):
        root.staging = StagingArea()
    for owner in root.owners.values():
        if lacks(owner, "notices"):
            owner.notices = OOBTree()
        if owner.kind == "user" and lacks(owner, "inbox"):
            owner.inbox = Inbox()
        for package in owner.packages.values():
            if lacks(package, "download_history"):
                package.download_history = OOBTree()


def adopt_plugin_state(root, attribute: str, name: str) -> None:
    """For a plugin's evolve step: state it used to hang on owners as
    ``attribute`` moves, the same persistent object, to ``owner.indexes[name]``."""
    for owner in root.owners.values():
        owner._p_activate()
        state = owner.__dict__.get(attribute)
        if attribute in owner.__dict__:
            delattr(owner, attribute)
        if state is not None:
            owner.indexes[name] = state


class User(Owner):
    kind = "user"
    is_admin = False
    disabled = False
    password_hash = ""
    second_factor = None  # anarepo.security.totp.SecondFactor, made when the user enrolls

    def __init__(self, login: str, email: str = ""):
        super().__init__(login, email)
        self.session_epoch = 0  # bumped to end every web session of the user
        self.organizations = OOTreeSet()  # logins of orgs the user belongs to
        self.inbox = Inbox()  # notifications (anarepo.services.notifications)

    def admin_principals(self):
        return [user_principal(self.login)]

    def end_sessions(self) -> None:
        """Invalidate every signed session cookie issued so far (password change)."""
        self.session_epoch += 1


class Group(Persistent):
    """A group inside an organization: a permission level, members and packages."""

    def __init__(self, name: str, permission: str = "read"):
        if permission not in GROUP_LEVELS:
            raise ValueError(f"unknown group permission {permission!r}")
        self.__name__ = name
        self.__parent__ = None
        self.name = name
        self.permission = permission
        self.members = OOTreeSet()  # user logins
        self.packages = OOTreeSet()  # package keys
        self.created = utcnow()

    @property
    def permissions(self):
        return GROUP_LEVELS[self.permission][1]

    @property
    def title(self) -> str:
        return GROUP_LEVELS[self.permission][0]


class Organization(Owner):
    kind = "org"

    def __init__(self, login: str, email: str = ""):
        super().__init__(login, email)
        self.owners = OOTreeSet()  # user logins with full rights
        self.groups = Folder(self)  # group name -> Group

    def admin_principals(self):
        return [org_owner_principal(self.login)]

    def namespace_aces(self):
        aces = [(Allow, org_member_principal(self.login), P.VIEW)]
        for group in self.groups.values():
            principal = group_principal(self.login, group.name)
            if group.permission in ("write", "admin"):
                aces.append((Allow, principal, (P.VIEW, P.UPLOAD)))
            if group.permission == "admin":
                aces.append((Allow, principal, (P.MANAGE, P.MANAGE_GROUPS)))
        return aces

    def package_aces(self, package):
        aces = []
        key = package_key(package.name)
        for group in self.groups.values():
            if key in group.packages:
                aces.append((Allow, group_principal(self.login, group.name), group.permissions))
        return aces

    def share_created_package(self, package, creator: str) -> None:
        """Members of read-write and admin groups may create packages in the
        organization; the package joins those of their groups, so the group's
        rights apply to it (they could not upload into it otherwise).  Org
        owners have every right already and share nothing."""
        if creator in self.owners:
            return
        key = package_key(package.name)
        for group in self.groups.values():
            if group.permission in ("write", "admin") and creator in group.members:
                group.packages.add(key)

    def remove_package(self, name: str):
        """Also out of every group: a later package of the same name starts with no group's rights."""
        package = super().remove_package(name)
        key = package_key(name)
        for group in self.groups.values():
            if key in group.packages:
                group.packages.remove(key)
        return package

    def add_group(self, group: Group) -> None:
        self.groups.add(group.name, group)
