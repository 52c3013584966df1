"""Downloads: ``GET /download/o/p/v/<basename>`` → 302 to a signed, short-lived URL.

The client fetches the ``Location`` without its token, so the URL authorizes
itself: an expiry and an HMAC (the site secret) over the file's path.  The
file is sent by the core's one blob policy (:mod:`anarepo.http.blobs`: ETag,
Range, nosniff, counted), always as a private ``attachment``: the link is a
capability, not for shared caches.  No 304 ever reaches the CLI: it sends no
validators.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ...errors import NotFound
from ...http.blobs import send_blob
from ...names import package_key
from ...resources.packages import Release
from ...security.checks import authorize
from ...security.permissions import P
from .base import api_view, basename_of, dist_of, public_url

LINK_LIFETIME = 600  # seconds


def signature(secret: str, expires: int, owner: str, package: str, version: str, basename: str) -> str:
    message = "\n".join((str(expires), owner, package_key(package), version, basename)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:40]


def signed_path(request, dist) -> str:
    package = dist.package
    owner = package.owner.login
    expires = int(time.time()) + LINK_LIFETIME
    sig = signature(request.registry.settings["anarepo.secret"], expires, owner, package.name, dist.version,
                    dist.basename)
    parts = "/".join(quote(x, safe="") for x in (owner, package.name, dist.version))
    return f"/api/files/{expires}/{sig}/{parts}/{quote(dist.basename, safe='/')}"


@api_view("api.download", "GET", P.VIEW, context=Release, renderer=None)
def download(context, request):
    dist = dist_of(request, context)
    authorize(request, P.VIEW, dist)  # a conda:download token reads conda files only
    return HTTPFound(location=public_url(request, signed_path(request, dist)))


@view_config(route_name="api.files", request_method=("GET", "HEAD"), permission=NO_PERMISSION_REQUIRED)
def serve_file(request):
    m = request.matchdict
    basename = basename_of(request)
    try:
        expires = int(m["expires"])
    except ValueError:
        raise NotFound("invalid download link") from None
    expected = signature(request.registry.settings["anarepo.secret"], expires, m["owner"], m["package"],
                         m["version"], basename)
    if expires < time.time() or not hmac.compare_digest(expected, m["signature"]):
        raise NotFound("the download link is invalid or has expired")
    owner = request.root.get_owner(m["owner"])
    package = owner.get_package(m["package"]) if owner is not None else None
    release = package.releases.get(m["version"]) if package is not None else None
    dist = release.files.get(basename) if release is not None else None
    if dist is None:
        raise NotFound("file not found")
    return send_blob(request, dist, disposition="attachment", shared=False)


def includeme(config):
    config.add_route("api.download", "/api/download/{owner}/{package}/{version}/*basename",
                     traverse="/{owner}/{package}/{version}")
    config.add_route("api.files", "/api/files/{expires}/{signature}/{owner}/{package}/{version}/*basename")
    config.scan(__name__)
