"""Releases: ``GET|POST|PATCH|DELETE /release/o/p/v``."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...clock import utcnow
from ...services.events import package_changed
from ...services.labels import check_unlocked
from ...services.contents import create_release, remove_release, set_release_attrs
from ...security.permissions import P
from ...resources.packages import Package, Release
from .base import api_view, empty, json_body
from .serialize import release_json

#: keys of the POST body that are request options, not release metadata
_OPTIONS = ("requirements", "announce")


@api_view("api.release", "GET", P.VIEW, context=Release)
def get_release(context, request):
    return release_json(request, context)


@api_view("api.release_create", "POST", P.UPLOAD, context=Package)
def add_release(context, request):
    m = request.matchdict
    package = context
    body = json_body(request)
    attrs = {k: v for k, v in body.items() if k not in _OPTIONS and v is not None}
    attrs.pop("version", None)
    release = create_release(package, m["version"], attrs)
    package_changed(request.registry, package, request)
    return release_json(request, release)


@api_view("api.release", "PATCH", P.EDIT, context=Release)
def update_release(context, request):
    release = context
    body = json_body(request)
    attrs = body.get("public_attrs", body)
    if not isinstance(attrs, dict):
        raise HTTPBadRequest("public_attrs must be an object")
    merged = dict(release.attrs or {})
    merged.update({k: v for k, v in attrs.items() if v is not None})
    merged.pop("version", None)
    set_release_attrs(release, merged)
    release.package.modified = utcnow()
    package_changed(request.registry, release.package, request)
    return release_json(request, release)


@api_view("api.release", "DELETE", P.EDIT, context=Release)
def delete_release(context, request):
    release = context
    check_unlocked(release.package.owner, (label for d in release.files.values() for label in d.labels))
    remove_release(request.registry, release, request)
    return empty(201)


def includeme(config):
    # creating: the release does not exist yet, so POST traverses to the package
    config.add_route("api.release_create", "/api/release/{owner}/{package}/{version}", request_method="POST",
                     traverse="/{owner}/{package}")
    config.add_route("api.release", "/api/release/{owner}/{package}/{version}",
                     traverse="/{owner}/{package}/{version}")
    config.scan(__name__)
