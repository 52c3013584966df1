"""The CRAN-like face: ``/r/<owner>[/label/<label>]/src/contrib/(PACKAGES[.gz]|<file>)``."""
from __future__ import annotations

import gzip

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ...db import root_factory
from ...names import check_label, normalize_owner
from ...security.permissions import P
from ...views.files import file_response, record_download
from .index import index_of

INDEX_FILES = ("PACKAGES", "PACKAGES.gz")


def owner_factory(request):
    owner = root_factory(request).owners.get(normalize_owner(request.matchdict["owner"]))
    if owner is None:
        raise HTTPNotFound()
    return owner


def _label(request) -> str:
    return check_label(request.matchdict.get("label") or "main")


def render_packages(request, owner, label: str) -> bytes:
    index = index_of(owner)
    entries = index.labels.get(label) if index is not None else None
    stanzas = []
    for key, (stanza, _basename, _version) in (entries.items() if entries is not None else ()):
        package = owner.packages.get(key)
        if package is not None and request.has_permission(P.VIEW, package):
            stanzas.append(stanza)
    return "\n".join(stanzas).encode("utf-8")


@view_config(route_name="r.contrib", permission=NO_PERMISSION_REQUIRED)
@view_config(route_name="r.label.contrib", permission=NO_PERMISSION_REQUIRED)
def contrib(request):
    owner = request.context
    filename = request.matchdict["filename"]
    label = _label(request)
    if not request.has_permission(P.VIEW, owner):
        raise HTTPNotFound()
    if filename in INDEX_FILES:
        body = render_packages(request, owner, label)
        if filename.endswith(".gz"):
            body = gzip.compress(body, mtime=0)
        response = Response(body=body, content_type="application/gzip" if filename.endswith(".gz") else "text/plain")
        response.md5_etag()
        response.conditional_response = True
        response.cache_control.max_age = 60
        return response
    name, sep, _rest = filename.partition("_")
    version = _rest[: -len(".tar.gz")] if _rest.endswith(".tar.gz") else None
    package = owner.packages.get(name.lower()) if sep and version else None
    release = package.releases.get(version) if package is not None else None
    dist = release.files.get(filename) if release is not None else None
    if dist is None or dist.type != "r" or label not in dist.labels or not request.has_permission(P.VIEW, package):
        raise HTTPNotFound()
    record_download(request, dist)
    return file_response(request, dist, disposition="attachment")


def includeme(config):
    config.add_route("r.contrib", "/r/{owner}/src/contrib/{filename}", factory=owner_factory)
    config.add_route("r.label.contrib", "/r/{owner}/label/{label}/src/contrib/{filename}", factory=owner_factory)
    config.scan(__name__)
