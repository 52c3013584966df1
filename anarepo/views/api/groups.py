"""Organization groups: ``/groups/{org}`` and ``/group/{org}/{g}[/members|/packages[/x]]``.

Changes need ``manage-groups`` on the organization (its owners and admin
groups, and tokens with the ``api:modify-group`` scope); reading needs
``manage-groups`` or membership of the organization.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ... import orgs
from ...clock import isoformat
from ...security.permissions import P, org_member_principal
from .base import NotFound, api_view, empty, find_owner, json_body, require, require_user


def _org(request, permission=None):
    require_user(request)
    org = find_owner(request, request.matchdict["org"])
    if org.kind != "org":
        raise NotFound(f"{org.login} is not an organization")
    if permission is not None:
        require(request, permission, org)
    elif not (request.has_permission(P.MANAGE_GROUPS, org)
              or org_member_principal(org.login) in request.identity.principals):
        require(request, P.MANAGE_GROUPS, org)
    return org


def _org_group(request, permission=None):
    """The organization (checked as :func:`_org` does) and its group named in the URL."""
    org = _org(request, permission)
    return org, orgs.get_group(org, request.matchdict["group"])


def group_json(org, group, detail: bool = False) -> dict:
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
    if detail:
        data["members"] = list(group.members)
        data["packages"] = [f"{org.login}/{key}" for key in group.packages]
    return data


@api_view("api.groups", "GET")
def list_groups(request):
    org = _org(request)
    login = request.identity.login
    manager = request.has_permission(P.MANAGE_GROUPS, org)
    groups = [group_json(org, g) for g in org.groups.values() if manager or login in g.members]
    return {"owner": org.login, "groups": groups}


@api_view("api.group", "GET")
def show_group(request):
    org = _org(request)
    return group_json(org, orgs.get_group(org, request.matchdict["group"]), detail=True)


@api_view("api.group", "POST")
def add_group(request):
    """Create the group; an existing group is refused (409) and left as it is, so
    ``anaconda groups add`` never changes the rights of a group it did not create."""
    org = _org(request, P.MANAGE_GROUPS)
    perms = json_body(request).get("perms") or "read"
    if not isinstance(perms, str):
        raise HTTPBadRequest("perms must be read, write or admin")
    orgs.create_group(org, request.matchdict["group"], perms)
    return empty(204)


@api_view("api.group", "DELETE")
def remove_group(request):
    org = _org(request, P.MANAGE_GROUPS)
    orgs.remove_group(request.registry, request.root, org, request.matchdict["group"])
    return empty(204)


@api_view("api.group_members", "GET")
def group_members(request):
    org, group = _org_group(request)
    root = request.root
    out = []
    for login in group.members:
        user = root.get_owner(login)
        out.append({"login": login, "name": (user.name or login) if user is not None else login})
    return out


@api_view("api.group_member", "GET")
def is_group_member(request):
    org, group = _org_group(request)
    if request.matchdict["login"].lower() not in group.members:
        raise NotFound(f"{request.matchdict['login']} is not a member of {org.login}/{group.name}")
    return empty(204)


@api_view("api.group_member", "PUT")
def add_group_member(request):
    org, group = _org_group(request, P.MANAGE_GROUPS)
    orgs.add_group_member(request.root, org, group, request.matchdict["login"])
    return empty(204)


@api_view("api.group_member", "DELETE")
def remove_group_member(request):
    org, group = _org_group(request, P.MANAGE_GROUPS)
    orgs.remove_group_member(request.root, org, group, request.matchdict["login"])
    return empty(204)


@api_view("api.group_packages", "GET")
def group_packages(request):
    org, group = _org_group(request)
    out = []
    for key in group.packages:
        package = org.packages.get(key)
        if package is not None:
            out.append({"name": package.name, "full_name": package.full_name, "summary": package.summary})
    return out


@api_view("api.group_package", "PUT")
def add_group_package(request):
    org, group = _org_group(request, P.MANAGE_GROUPS)
    orgs.add_group_package(request.registry, org, group, request.matchdict["package"])
    return empty(204)


@api_view("api.group_package", "DELETE")
def remove_group_package(request):
    org, group = _org_group(request, P.MANAGE_GROUPS)
    orgs.remove_group_package(request.registry, org, group, request.matchdict["package"])
    return empty(204)


def includeme(config):
    config.add_route("api.groups", "/api/groups/{org}")
    config.add_route("api.group", "/api/group/{org}/{group}")
    config.add_route("api.group_members", "/api/group/{org}/{group}/members")
    config.add_route("api.group_member", "/api/group/{org}/{group}/members/{login}")
    config.add_route("api.group_packages", "/api/group/{org}/{group}/packages")
    config.add_route("api.group_package", "/api/group/{org}/{group}/packages/{package}")
    config.scan(__name__)
