"""Permissions, principals and token scopes: the vocabulary of every ACL.

A view names one permission.  ACLs on the resource tree grant permissions to
principals; token scopes then narrow what a token may do on each face
(the faces and their scopes are registered: :mod:`anarepo.plugins.faces`)
before the ACL is consulted.
"""
from __future__ import annotations

from enum import StrEnum

from pyramid.authorization import ALL_PERMISSIONS, Authenticated, Everyone  # noqa: F401

from ..plugins import faces


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


#: Token scopes are declared by the faces (``config.add_face(scopes=...)``, see
#: :mod:`anarepo.plugins.faces`): the registry's table maps a scope name to a
#: :class:`~anarepo.plugins.faces.Scope` (its grants per face).
ANY = faces.ANY


def scope_table(request_or_registry) -> dict:
    """Every scope the registered faces declare: name -> Scope."""
    return faces.faces(request_or_registry).scopes


def typed_read_types(table, scopes, face, permission: str) -> set[str]:
    """The file types ``scopes`` may read on ``face`` through their ``reads_types``
    (only on faces with ``typed_reads``, the API, and only to view)."""
    if not face.typed_reads or permission != P.VIEW:
        return set()
    return {t for s in scopes if s in table for t in table[s].reads_types}


class InvalidScope(ValueError):
    pass


def check_scopes(scopes, table) -> tuple[str, ...]:
    """Normalize a requested scope list (names from ``table``, see :func:`scope_table`);
    empty means a full-access login token."""
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
            if scope not in table:
                raise InvalidScope(
                    f"unknown scope {scope!r}; choose from {', '.join(sorted(table))}"
                )
            if scope not in out:
                out.append(scope)
    return tuple(out) or ("all",)


def scopes_allow(table, scopes, face: str, permission: str) -> bool:
    """Whether any of the scopes (in ``table``) lets a token use ``permission`` on the face named ``face``."""
    for scope in scopes:
        declared = table.get(scope)
        grants = declared.grants if declared is not None else {}
        for gface in (ANY, face):
            perms = grants.get(gface)
            if perms is None:
                continue
            if perms == ANY or permission in perms:
                return True
    return False
