"""Permissions, principals and token scopes: the vocabulary of every ACL.

A view names one permission.  ACLs on the resource tree grant permissions to
principals; token scopes then narrow what a token may do on each face
(web, api, conda, pypi) before the ACL is consulted.
"""
from __future__ import annotations

from enum import StrEnum

from pyramid.authorization import ALL_PERMISSIONS, Authenticated, Everyone  # noqa: F401


class P(StrEnum):
    """Permissions, from the weakest to the strongest."""

    VIEW = "view"  # see a page, list, read an index, download a file
    UPLOAD = "upload"  # add packages, releases and files
    EDIT = "edit"  # labels, metadata, remove files and releases, yank
    ADMIN = "admin"  # access, collaborators, transfer, delete a package
    MANAGE = "manage"  # an owner's settings: org owners, whole labels, notices, org tokens, delete the org
    MANAGE_GROUPS = "manage-groups"  # an organization's groups: create, delete, members, packages
    ACCOUNT = "account"  # a user's own account: password, tokens
    SITE_ADMIN = "site-admin"


READ_PERMS = (P.VIEW,)
WRITE_PERMS = (P.VIEW, P.UPLOAD, P.EDIT)
PACKAGE_ADMIN_PERMS = (P.VIEW, P.UPLOAD, P.EDIT, P.ADMIN)

#: What a collaborator may do on a package: "full read/write permissions".
COLLABORATOR_PERMS = WRITE_PERMS

#: Group permission levels of an organization, as the web UI names them.
GROUP_LEVELS = {
    "read": ("Read-Only", READ_PERMS),
    "write": ("Read-Write", WRITE_PERMS),
    "admin": ("Administration", PACKAGE_ADMIN_PERMS + (P.MANAGE, P.MANAGE_GROUPS)),
}

SITE_ADMIN = "site:admin"


def user_principal(login: str) -> str:
    return f"user:{login}"


def org_owner_principal(org: str) -> str:
    return f"org:{org}:owner"


def org_member_principal(org: str) -> str:
    return f"org:{org}:member"


def group_principal(org: str, group: str) -> str:
    return f"group:{org}/{group}"


FACES = ("web", "api", "conda", "pypi", "r")
ANY = "*"

#: Token scopes with the anaconda.org names: scope -> {face: permissions}.
#: ``ANY`` as a face or permission set means every one.
SCOPES: dict[str, tuple[str, dict]] = {
    "all": ("Allow all operations", {ANY: ANY}),
    "api": ("Allow all API operations", {"api": ANY}),
    "api:read": ("Allow read access to the API site", {"api": (P.VIEW,)}),
    "api:write": (
        "Allow write access to the API site",
        # and uploads to PyPI indexes (twine with an anaconda.org-style token)
        {"api": (P.VIEW, P.UPLOAD, P.EDIT, P.ADMIN), "pypi": (P.VIEW, P.UPLOAD)},
    ),
    "api:modify-group": (
        "Allow modification of groups",
        # groups only: never the organization's owners, labels or its deletion
        {"api": (P.VIEW, P.MANAGE_GROUPS)},
    ),
    "conda": ("Allow all operations on Conda repositories", {"conda": ANY, "api": (P.VIEW,)}),
    "conda:download": (
        "Allow private downloads from Conda repositories",
        {"conda": (P.VIEW,)},
    ),
    "pypi": ("Allow all operations on PyPI repositories", {"pypi": ANY}),
    "pypi:download": (
        "Allow private downloads from PyPI repositories",
        {"pypi": (P.VIEW,)},
    ),
    "pypi:upload": (
        "Allow uploads to PyPI repositories",
        {"pypi": (P.VIEW, P.UPLOAD)},
    ),
    "repos": (
        "Allow access to all package repositories",
        {"conda": (P.VIEW,), "pypi": (P.VIEW,), "r": (P.VIEW,), "api": (P.VIEW,), "web": (P.VIEW,)},
    ),
}


#: Scopes that also read, on the API face, the packages and files of one type:
#: ``anaconda -t TOKEN download`` with a ``conda:download`` token fetches the
#: conda files it could fetch from the channel ("private downloads from Conda
#: repositories"), and no file of another type.
TYPED_API_READ = {"conda:download": "conda", "pypi:download": "pypi"}


def typed_read_types(scopes, face: str, permission: str) -> set[str]:
    """The file types ``scopes`` may read through :data:`TYPED_API_READ` here."""
    if face != "api" or permission != P.VIEW:
        return set()
    return {TYPED_API_READ[s] for s in scopes if s in TYPED_API_READ}


class InvalidScope(ValueError):
    pass


def check_scopes(scopes) -> tuple[str, ...]:
    """Normalize a requested scope list; empty means a full-access login token."""
    if scopes is None:
        return ("all",)
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not isinstance(scopes, (list, tuple)):
        raise InvalidScope("scopes must be a list of strings")
    out = []
    for item in scopes:
        if not isinstance(item, str):
            raise InvalidScope("scopes must be a list of strings")
        for scope in item.split():
            if scope not in SCOPES:
                raise InvalidScope(
                    f"unknown scope {scope!r}; choose from {', '.join(sorted(SCOPES))}"
                )
            if scope not in out:
                out.append(scope)
    return tuple(out) or ("all",)


def scopes_allow(scopes, face: str, permission: str) -> bool:
    """Whether any of the scopes lets a token use ``permission`` on ``face``."""
    for scope in scopes:
        grants = SCOPES.get(scope, ("", {}))[1]
        for gface in (ANY, face):
            perms = grants.get(gface)
            if perms is None:
                continue
            if perms == ANY or permission in perms:
                return True
    return False
