"""The web search page: ``/search?q=...&type=...`` over every package the
requester may see (the matching is shared with ``GET /api/search``)."""
from __future__ import annotations

from pyramid.view import view_config

from ..resources.root import Root
from ..services.search import MAX_RESULTS, QueryTooLong, matching_packages, normalize_query, resolve_type
from ..security.permissions import P
from .packages import type_filters


@view_config(route_name="search", renderer="search.jinja2", context=Root, permission=P.VIEW)
def search_page(request):
    raw = request.params.get("q", "")
    type_filter = request.params.get("type", "")
    values = {"q": raw[:200], "type_filter": type_filter, "type_filters": type_filters(request.registry),
              "results": [], "truncated": False, "error": None, "searched": "q" in request.params or bool(type_filter)}
    try:
        query = normalize_query(raw)
    except QueryTooLong as exc:
        request.response.status = 400
        values["error"] = str(exc)
        return values
    if not values["searched"]:
        return values
    results = []
    for package in matching_packages(request, query, resolve_type(request.registry, type_filter)):
        if len(results) >= MAX_RESULTS:
            values["truncated"] = True
            break
        results.append(package)
    values["results"] = results
    return values


def includeme(config):
    config.add_route("search", "/search")
    config.scan(__name__)
