"""Organizations and package transfers over the API (beyond anaconda-client's calls).

* ``POST /api/organizations/{org}`` ``{"email": ...}`` creates an organization
  owned by the requester; ``GET`` shows it (owners and groups for its members);
  ``DELETE`` with ``{"confirm": "<org>"}`` deletes it and all its data.
* ``PUT|DELETE /api/organizations/{org}/owners/{login}`` manage its owners.
* ``POST /api/package/{owner}/{package}/transfer`` ``{"to_owner": ...}`` moves a
  package (files, labels, index entries) to another owner the requester controls.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response

from ... import orgs
from ...accounts import create_organization
from ...publish import NotFound
from ...security.permissions import P
from .base import api_view, find_owner, find_package, json_body, require, require_user, text_field
from .serialize import package_json, user_json


def org_json(request, org) -> dict:
    data = user_json(org)
    if request.has_permission(P.VIEW, org) and request.identity is not None and (
        request.identity.login in org.owners or org.login in request.identity.user.organizations
    ):
        data["owners"] = sorted(org.owners)
        data["groups"] = [{"name": g.name, "permission": g.permission, "members": sorted(g.members)}
                          for g in org.groups.values()]
    return data


def find_org(request):
    org = find_owner(request, request.matchdict["org"])
    if org.kind != "org":
        raise NotFound(f"organization {request.matchdict['org']!r} not found")
    return org


@api_view("api.organization", "POST")
def create(request):
    user = require_user(request)
    require(request, P.UPLOAD, request.root)  # scopes: an api/api:write/all token or a session-less login token
    body = json_body(request)
    org = create_organization(request.root, request.matchdict["org"], text_field(body, "email", 300), user)
    return org_json(request, org)


@api_view("api.organization", "GET")
def show(request):
    return org_json(request, find_org(request))


@api_view("api.organization", "DELETE")
def delete(request):
    org = find_org(request)
    require(request, P.MANAGE, org)
    if json_body(request).get("confirm") != org.login:
        raise HTTPBadRequest(f"send {{\"confirm\": \"{org.login}\"}} to delete the organization and all its data")
    orgs.delete_organization(request.registry, request.root, org)
    return Response(status=201)


@api_view("api.organization_owner", "PUT")
def add_owner(request):
    org = find_org(request)
    require(request, P.MANAGE, org)
    orgs.add_org_owner(request.root, org, request.matchdict["login"])
    return Response(status=201)


@api_view("api.organization_owner", "DELETE")
def remove_owner(request):
    org = find_org(request)
    require(request, P.MANAGE, org)
    orgs.remove_org_owner(request.root, org, request.matchdict["login"])
    return Response(status=201)


@api_view("api.transfer", "POST")
def transfer(request):
    m = request.matchdict
    package = find_package(request, m["owner"], m["package"], P.ADMIN)
    target_login = json_body(request, required=True).get("to_owner")
    if not isinstance(target_login, str) or not target_login:
        raise HTTPBadRequest("to_owner is required")
    target = find_owner(request, target_login)
    require(request, P.UPLOAD, target, f"user {target_login!r} not found")
    orgs.transfer_package(request.registry, request.root, package, target)
    return package_json(request, package)


def includeme(config):
    config.add_route("api.organization", "/api/organizations/{org}")
    config.add_route("api.organization_owner", "/api/organizations/{org}/owners/{login}")
    config.add_route("api.transfer", "/api/package/{owner}/{package}/transfer")
    config.scan(__name__)
