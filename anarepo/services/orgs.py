"""Organizations and their groups (package lifecycle: :mod:`anarepo.services.packages`).

One service for the web pages and the API: every function validates first and
changes the tree only when the whole change can be made, inside the caller's
transaction, so a refused or failed change leaves everything as it was.
Permission checks are the caller's (views know the requester); these functions
check the data: names, existence, membership rules.
"""
from __future__ import annotations

from .. import names
from .accounts import find_user
from ..errors import Conflict, NotFound, PublishError
from .events import package_changed
from .notifications import notify
from ..resources.owners import Group
from ..security.permissions import GROUP_LEVELS
from ..security.tokens import revoke_token, tokens_of
# moved to services.packages; the API views still import them from here
from .packages import add_collaborator, remove_collaborator, set_access, transfer_package  # noqa: F401


def _org(owner):
    if owner is None or owner.kind != "org":
        raise PublishError("groups belong to organizations")
    return owner


def is_member(org, login: str) -> bool:
    return login in org.owners or any(login in g.members for g in org.groups.values())


def _sync_membership(root, org, login: str) -> None:
    """Keep ``user.organizations`` equal to the orgs the user owns or has a group in."""
    user = root.get_owner(login)
    if user is None or user.kind != "user":
        return
    if is_member(org, login):
        user.organizations.add(org.login)
    elif org.login in user.organizations:
        user.organizations.remove(org.login)


# -- organization owners --------------------------------------------------------
def add_org_owner(root, org, login: str) -> None:
    org = _org(org)
    user = find_user(root, login)
    if user.login in org.owners:
        raise Conflict(f"{user.login} is already an owner of {org.login}")
    org.owners.add(user.login)
    _sync_membership(root, org, user.login)
    notify(user, f"You were made an owner of the organization {org.login}.", f"/{org.login}")


def remove_org_owner(root, org, login: str) -> None:
    org = _org(org)
    login = names.normalize_owner(login)
    if login not in org.owners:
        raise NotFound(f"{login} is not an owner of {org.login}")
    if len(org.owners) == 1:
        raise PublishError(f"{login} is the last owner of {org.login}; add another owner first")
    org.owners.remove(login)
    _sync_membership(root, org, login)


# -- groups --------------------------------------------------------------------
def check_permission_level(permission: str) -> str:
    if permission not in GROUP_LEVELS:
        raise PublishError(f"group permission must be one of {', '.join(GROUP_LEVELS)}")
    return permission


def create_group(org, name: str, permission: str = "read") -> Group:
    org = _org(org)
    name = names.check_group_name(name)
    check_permission_level(permission)
    existing = org.groups.get(name)
    if existing is not None:
        raise Conflict(f"group {org.login}/{name} exists already (permission {existing.permission});"
                       f" change its permission on the organization's Groups page")
    group = Group(name, permission)
    org.add_group(group)
    return group


def get_group(org, name: str) -> Group:
    group = _org(org).groups.get((name or "").lower())
    if group is None:
        raise NotFound(f"no group {org.login}/{name}")
    return group


def set_group_permission(registry, org, group: Group, permission: str) -> None:
    group.permission = check_permission_level(permission)
    _packages_changed(registry, org, group.packages)


def remove_group(registry, root, org, name: str) -> None:
    group = get_group(org, name)
    org.groups.remove(group.name)
    for login in list(group.members):
        _sync_membership(root, org, login)
    _packages_changed(registry, org, group.packages)


def add_group_member(root, org, group: Group, login: str) -> None:
    user = find_user(root, login)
    if user.login in group.members:
        raise Conflict(f"{user.login} is already a member of {org.login}/{group.name}")
    new_to_org = not is_member(org, user.login)
    group.members.add(user.login)
    _sync_membership(root, org, user.login)
    text = f"You were added to the group {group.name} ({group.title}) of {org.login}."
    if new_to_org:
        text = f"You were added to the organization {org.login} (group {group.name})."
    notify(user, text, f"/{org.login}")


def remove_group_member(root, org, group: Group, login: str) -> None:
    login = names.normalize_owner(login)
    if login not in group.members:
        raise NotFound(f"{login} is not a member of {org.login}/{group.name}")
    group.members.remove(login)
    _sync_membership(root, org, login)


def add_group_package(registry, org, group: Group, package_name: str) -> None:
    package = org.get_package(package_name)
    if package is None:
        raise NotFound(f"no package {org.login}/{package_name}")
    key = names.package_key(package.name)
    if key in group.packages:
        raise Conflict(f"{package.full_name} is already in group {group.name}")
    group.packages.add(key)
    package_changed(registry, package)


def remove_group_package(registry, org, group: Group, package_name: str) -> None:
    key = names.package_key(package_name or "")
    if key not in group.packages:
        raise NotFound(f"{org.login}/{package_name} is not in group {group.name}")
    group.packages.remove(key)
    package = org.packages.get(key)
    if package is not None:
        package_changed(registry, package)


def _packages_changed(registry, org, keys) -> None:
    for key in list(keys):
        package = org.packages.get(key)
        if package is not None:
            package_changed(registry, package)


def delete_organization(registry, root, org) -> None:
    """Delete an organization and everything in it: packages, groups, tokens."""
    from .contents import remove_package

    org = _org(org)
    for key in list(org.packages.keys()):
        remove_package(registry, org.packages[key])
    doomed = {token.digest: token for token in tokens_of(root, org)}
    doomed.update({d: t for d, t in root.tokens.items() if t.org == org.login})
    for token in doomed.values():
        revoke_token(root, token)
    members = set(org.owners)
    for group in org.groups.values():
        members |= set(group.members)
    for login in members:
        user = root.get_owner(login)
        if user is not None and org.login in getattr(user, "organizations", ()):
            user.organizations.remove(org.login)
    root.owners.remove(org.login)
