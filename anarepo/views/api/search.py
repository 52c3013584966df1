"""``GET /search?name=Q[&type=T][&platform=P]``: packages whose name contains Q.

Only packages the requester may see are listed; the matching is shared with the
web search page (:mod:`anarepo.services.search`), stopping at :data:`MAX_RESULTS`.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...services.search import MAX_RESULTS, QueryTooLong, matching_packages, normalize_query, resolve_type
from ...resources.root import Root
from ...security.permissions import P
from .base import api_view
from .serialize import package_summary


@api_view("api.search", "GET", P.VIEW, context=Root)
def search(request):
    try:
        query = normalize_query(request.params.get("name"))
    except QueryTooLong as exc:
        raise HTTPBadRequest(str(exc)) from None
    ptype = resolve_type(request.registry, request.params.get("type") or request.params.get("package_type"))
    if ptype is False:
        return []
    platform = request.params.get("platform")
    results = []
    for package in matching_packages(request, query, ptype):
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
