"""``GET /search?name=Q[&type=T][&platform=P]``: packages whose name contains Q.

Only packages the requester may see are listed.  This walks the packages of
every owner (no catalog yet), stopping at :data:`MAX_RESULTS`.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...security.permissions import P
from .base import api_view, check_credentials
from .serialize import package_summary

MAX_RESULTS = 200


@api_view("api.search", "GET")
def search(request):
    check_credentials(request)
    query = (request.params.get("name") or "").strip().lower()
    if len(query) > 200:
        raise HTTPBadRequest("the query is too long")
    ptype = request.params.get("type") or request.params.get("package_type")
    if ptype:
        try:
            ptype = request.registry.package_types.resolve(ptype).name
        except KeyError:
            return []
    platform = request.params.get("platform")
    results = []
    for owner in request.root.owners.values():
        for key, package in owner.packages.items():
            if query and query not in key:
                continue
            if ptype and ptype not in package.package_types:
                continue
            if not request.has_permission(P.VIEW, package):
                continue
            summary = package_summary(request, package)
            if platform and platform not in summary["conda_platforms"] and not (
                platform == "noarch" and not summary["conda_platforms"]
            ):
                continue
            results.append(summary)
            if len(results) >= MAX_RESULTS:
                return results
    return results


def includeme(config):
    config.add_route("api.search", "/api/search")
    config.scan(__name__)
