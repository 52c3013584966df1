"""Organizations and package transfers over the API (beyond anaconda-client's calls).

* ``POST /api/organizations/{org}`` ``{"email": ...}`` creates an organization
  owned by the requester; ``GET`` shows it (to its members: the owners and the
  groups :mod:`anarepo.security.visibility` lets them see);
  ``DELETE`` with ``{"confirm": "<org>"}`` deletes it and all its data.
* ``PUT|DELETE /api/organizations/{org}/owners/{login}`` manage its owners.
* ``POST /api/package/{owner}/{package}/transfer`` ``{"to_owner": ...}`` moves a
  package (files, labels, index entries) to another owner the requester controls.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response

from ...services import orgs
from ...security import visibility
from ...services.accounts import create_organization
from ...errors import NotFound
from ...names import reserved_owner_names
from ...resources.owners import Organization
from ...resources.packages import Package
from ...resources.root import Root
from ...security.checks import authorize
from ...security.permissions import P
from ...security.policy import acting_login
from ...services.publishing import names_seen_by
from .base import api_view, json_body, require_user, text_field
from .serialize import package_json, user_json


def org_json(request, org) -> dict:
    data = user_json(org)
    login = acting_login(request, org)  # a token outside its scopes or organization: anonymous
    if request.has_permission(P.VIEW, org) and login is not None and (
        login in org.owners or org.login in request.identity.user.organizations
    ):
        data["owners"] = sorted(org.owners)
        data["groups"] = [{"name": g.name, "permission": g.permission, "members": sorted(g.members)}
                          for g in visibility.visible_groups(request, org)]
    return data


@api_view("api.organization_create", "POST", P.UPLOAD, context=Root)
def create(request):
    """``upload`` on the root creates a namespace (an api/api:write/all token)."""
    user = require_user(request)
    body = json_body(request)
    org = create_organization(request.root, request.matchdict["org"], text_field(body, "email", 300), user,
                              reserved=reserved_owner_names(request.registry))
    return org_json(request, org)


@api_view("api.organization", "GET", P.VIEW, context=Organization)
def show(context, request):
    return org_json(request, context)


@api_view("api.organization", "DELETE", P.MANAGE, context=Organization)
def delete(context, request):
    org = context
    if json_body(request).get("confirm") != org.login:
        raise HTTPBadRequest(f"send {{\"confirm\": \"{org.login}\"}} to delete the organization and all its data")
    orgs.delete_organization(request.registry, request.root, org)
    return Response(status=201)


@api_view("api.organization_owner", "PUT", P.MANAGE, context=Organization)
def add_owner(context, request):
    org = context
    orgs.add_org_owner(request.root, org, request.matchdict["login"])
    return Response(status=201)


@api_view("api.organization_owner", "DELETE", P.MANAGE, context=Organization)
def remove_owner(context, request):
    org = context
    orgs.remove_org_owner(request.root, org, request.matchdict["login"])
    return Response(status=201)


@api_view("api.transfer", "POST", P.ADMIN, context=Package)
def transfer(context, request):
    """``admin`` on the package, and ``upload`` on the new owner."""
    package = context
    target_login = json_body(request, required=True).get("to_owner")
    if not isinstance(target_login, str) or not target_login:
        raise HTTPBadRequest("to_owner is required")
    target = request.root.get_owner(target_login)
    if target is None:
        raise NotFound(f"user {target_login!r} not found")
    authorize(request, P.UPLOAD, target)
    with names_seen_by(request):  # a hidden package of the same name is not revealed
        orgs.transfer_package(request.registry, request.root, package, target)
    return package_json(request, package)


def includeme(config):
    # creating: the organization does not exist yet, so POST stays on the root
    config.add_route("api.organization_create", "/api/organizations/{org}", request_method="POST")
    config.add_route("api.organization", "/api/organizations/{org}", traverse="/{org}")
    config.add_route("api.organization_owner", "/api/organizations/{org}/owners/{login}", traverse="/{org}")
    config.add_route("api.transfer", "/api/package/{owner}/{package}/transfer", traverse="/{owner}/{package}")
    config.scan(__name__)
