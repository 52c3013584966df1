"""Organization groups: ``/groups/{org}`` and ``/group/{org}/{g}[/members|/packages[/x]]``.

Changes need ``manage-groups`` on the organization (its owners and admin
groups, and tokens with the ``api:modify-group`` scope); reading needs
``manage-groups`` or membership of the organization, and a member who does not
manage groups sees only the groups they belong to: another group answers 404
as a missing one does (:mod:`anarepo.security.visibility`).
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...services import orgs
from ...security import visibility
from ...clock import isoformat
from ...errors import NotFound
from ...resources.owners import Organization
from ...security.checks import authorize
from ...security.permissions import P, org_member_principal
from ...security.policy import acting_login
from .base import api_view, empty, json_body, require_user


def _reader(request, org):
    """Reading groups: ``manage-groups``, or membership of the organization."""
    require_user(request)
    if acting_login(request, org) is None or org_member_principal(org.login) not in request.identity.principals:
        authorize(request, P.MANAGE_GROUPS, org)
    return org


def _group(request, org):
    """The group of ``org`` named in the URL (404 if absent)."""
    return orgs.get_group(org, request.matchdict["group"])


def _visible_group(request, org):
    """The group named in the URL if the requester may read it; 404 worded as for
    a missing group otherwise, so group names are not revealed either."""
    group = orgs.get_group(org, request.matchdict["group"])
    if not visibility.group_visible(request, org, group):
        raise NotFound(f"no group {org.login}/{request.matchdict['group']}")
    return group


def group_json(org, group, packages=None) -> dict:
    """A group; ``packages`` (those the requester may read) adds the member and package lists."""
    data = {
        "name": group.name,
        "owner": org.login,
        "full_name": f"{org.login}/{group.name}",
        "permission": group.permission,
        "title": group.title,
        "member_count": len(group.members),
        "package_count": len(group.packages),
        "created_at": isoformat(group.created),
    }
    if packages is not None:
        data["members"] = list(group.members)
        data["packages"] = [p.full_name for p in packages]
    return data


def _readable_packages(request, org, group) -> list:
    """The group's packages the requester may read (a typed or read token may read fewer)."""
    out = []
    for key in group.packages:
        package = org.packages.get(key)
        if package is not None and request.has_permission(P.VIEW, package):
            out.append(package)
    return out


@api_view("api.groups", "GET", P.VIEW, context=Organization)
def list_groups(context, request):
    org = _reader(request, context)
    return {"owner": org.login, "groups": [group_json(org, g) for g in visibility.visible_groups(request, org)]}


@api_view("api.group", "GET", P.VIEW, context=Organization)
def show_group(context, request):
    org = _reader(request, context)
    group = _visible_group(request, org)
    return group_json(org, group, _readable_packages(request, org, group))


@api_view("api.group", "POST", P.MANAGE_GROUPS, context=Organization)
def add_group(context, request):
    """Create the group; an existing group is refused (409) and left as it is, so
    ``anaconda groups add`` never changes the rights of a group it did not create."""
    org = context
    perms = json_body(request).get("perms") or "read"
    if not isinstance(perms, str):
        raise HTTPBadRequest("perms must be read, write or admin")
    orgs.create_group(org, request.matchdict["group"], perms)
    return empty(204)


@api_view("api.group", "DELETE", P.MANAGE_GROUPS, context=Organization)
def remove_group(context, request):
    org = context
    orgs.remove_group(request.registry, request.root, org, request.matchdict["group"])
    return empty(204)


@api_view("api.group_members", "GET", P.VIEW, context=Organization)
def group_members(context, request):
    org = _reader(request, context)
    group = _visible_group(request, org)
    root = request.root
    out = []
    for login in group.members:
        user = root.get_owner(login)
        out.append({"login": login, "name": (user.name or login) if user is not None else login})
    return out


@api_view("api.group_member", "GET", P.VIEW, context=Organization)
def is_group_member(context, request):
    org = _reader(request, context)
    group = _visible_group(request, org)
    if request.matchdict["login"].lower() not in group.members:
        raise NotFound(f"{request.matchdict['login']} is not a member of {org.login}/{group.name}")
    return empty(204)


@api_view("api.group_member", "PUT", P.MANAGE_GROUPS, context=Organization)
def add_group_member(context, request):
    org, group = context, _group(request, context)
    orgs.add_group_member(request.root, org, group, request.matchdict["login"])
    return empty(204)


@api_view("api.group_member", "DELETE", P.MANAGE_GROUPS, context=Organization)
def remove_group_member(context, request):
    org, group = context, _group(request, context)
    orgs.remove_group_member(request.root, org, group, request.matchdict["login"])
    return empty(204)


@api_view("api.group_packages", "GET", P.VIEW, context=Organization)
def group_packages(context, request):
    org = _reader(request, context)
    group = _visible_group(request, org)
    return [{"name": p.name, "full_name": p.full_name, "summary": p.summary}
            for p in _readable_packages(request, org, group)]


@api_view("api.group_package", "PUT", P.MANAGE_GROUPS, context=Organization)
def add_group_package(context, request):
    org, group = context, _group(request, context)
    orgs.add_group_package(request.registry, org, group, request.matchdict["package"])
    return empty(204)


@api_view("api.group_package", "DELETE", P.MANAGE_GROUPS, context=Organization)
def remove_group_package(context, request):
    org, group = context, _group(request, context)
    orgs.remove_group_package(request.registry, org, group, request.matchdict["package"])
    return empty(204)


def includeme(config):
    config.add_route("api.groups", "/api/groups/{org}", traverse="/{org}")
    config.add_route("api.group", "/api/group/{org}/{group}", traverse="/{org}")
    config.add_route("api.group_members", "/api/group/{org}/{group}/members", traverse="/{org}")
    config.add_route("api.group_member", "/api/group/{org}/{group}/members/{login}", traverse="/{org}")
    config.add_route("api.group_packages", "/api/group/{org}/{group}/packages", traverse="/{org}")
    config.add_route("api.group_package", "/api/group/{org}/{group}/packages/{package}", traverse="/{org}")
    config.scan(__name__)
