"""Packages: ``GET|POST|PATCH|DELETE /package/o/p`` and the lists ``GET /packages[/o]``."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...services import orgs
from ...errors import PublishError
from ...services.events import package_changed
from ...services.contents import apply_package_attrs, create_package, remove_package
from ...resources.owners import Owner
from ...resources.packages import ACCESS_LEVELS, Package
from ...security.checks import authorize
from ...security.permissions import P
from ...services.publishing import names_seen_by
from .base import api_view, empty, json_body, require_user, requester_view
from .serialize import package_json, package_summary


def requested_access(request, body: dict) -> str | None:
    """``access`` if given, else ``public: false`` → private; None when unspecified."""
    access = body.get("access")
    if access is None and "public" in body:
        if not isinstance(body["public"], bool):
            raise HTTPBadRequest("public must be true or false")
        access = "public" if body["public"] else "private"
    if access is None:
        return None
    if access not in ACCESS_LEVELS:
        raise HTTPBadRequest(f"access must be one of {', '.join(ACCESS_LEVELS)}")
    if access != "public" and not request.registry.settings.get("anarepo.allow_private", True):
        raise PublishError("this site does not allow private packages")
    return access


def _attrs(body: dict) -> dict:
    attrs = body.get("public_attrs") or {}
    if not isinstance(attrs, dict):
        raise HTTPBadRequest("public_attrs must be an object")
    return attrs


@api_view("api.package", "GET", P.VIEW, context=Package)
def get_package(context, request):
    return package_json(request, context)


@api_view("api.package_create", "POST", P.UPLOAD, context=Owner)
def add_package(context, request):
    m = request.matchdict
    owner = context
    body = json_body(request)
    attrs = _attrs(body)
    access = requested_access(request, body) or "public"
    summary = attrs.get("summary") if isinstance(attrs.get("summary"), str) else body.get("summary") or ""
    with names_seen_by(request):  # a hidden package holding the name is not revealed
        package = create_package(owner, m["package"], summary=summary, access=access, attrs=attrs,
                                 registry=request.registry, creator=request.identity.login)
    package_changed(request.registry, package, request)
    return package_json(request, package)


@api_view("api.package", "PATCH", P.EDIT, context=Package)
def update_package(context, request):
    package = context
    body = json_body(request)
    attrs = _attrs(body)
    access = requested_access(request, body)
    apply_package_attrs(package, attrs)
    if access is not None and access != package.access:
        authorize(request, P.ADMIN, package)
        orgs.set_access(request.registry, package, access)
    package_changed(request.registry, package, request)
    return package_json(request, package)


@api_view("api.package", "DELETE", P.UPLOAD, context=Package)
def delete_package(context, request):
    """Needs ``admin``; a package without files needs only ``upload``: anaconda
    upload removes the package it created when the upload into it was refused."""
    package = context
    if package.file_count():
        authorize(request, P.ADMIN, package)
    remove_package(request.registry, package, request)
    return empty(201)


def _filtered(request, owner):
    params = request.params
    platform = params.get("platform")
    ptype = params.get("package_type") or params.get("type")
    access = params.get("access")
    for package in owner.packages.values():
        if not request.has_permission(P.VIEW, package):
            continue
        if ptype and ptype not in package.package_types:
            continue
        if access and package.access != access and not (access == "private" and package.access != "public"):
            continue
        summary = package_summary(request, package)
        if platform and platform not in summary["conda_platforms"]:
            continue
        yield summary


@api_view("api.packages_of", "GET", P.VIEW, context=Owner)
def packages_of(context, request):
    return list(_filtered(request, context))


@requester_view("api.packages_mine", "GET")
def my_packages(request):
    return list(_filtered(request, require_user(request)))


def includeme(config):
    # creating: the package does not exist yet, so POST traverses to the owner
    config.add_route("api.package_create", "/api/package/{owner}/{package}", request_method="POST",
                     traverse="/{owner}")
    config.add_route("api.package", "/api/package/{owner}/{package}", traverse="/{owner}/{package}")
    config.add_route("api.packages_mine", "/api/packages")
    config.add_route("api.packages_of", "/api/packages/{owner}", traverse="/{owner}")
    config.scan(__name__)
