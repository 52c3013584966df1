"""Finding packages by name across every owner, for the API and the web search page.

Both faces list only what the requester may see, so the matching and the
permission filter live here once.  There is no catalog yet: this walks the
package keys of every owner (names only; a package object is loaded only when
its key matches) and stops after ``limit`` results.
"""
from __future__ import annotations

from ..security.permissions import P

MAX_RESULTS = 200
MAX_QUERY = 200


class QueryTooLong(ValueError):
    pass


def normalize_query(query: str | None) -> str:
    query = (query or "").strip().lower()
    if len(query) > MAX_QUERY:
        raise QueryTooLong("the query is too long")
    return query


def resolve_type(registry, type_name: str | None):
    """The canonical type name for a name or alias; ``None`` for no filter,
    ``False`` for an unknown type (which matches nothing)."""
    if not type_name:
        return None
    try:
        return registry.package_types.resolve(type_name).name
    except KeyError:
        return False


def matching_packages(request, query: str, type_name: str | None = None):
    """Packages visible to ``request`` whose name contains ``query`` (already
    normalized) and, if given, which hold files of ``type_name``; a generator."""
    if type_name is False:
        return
    for owner in request.root.owners.values():
        for key, package in owner.packages.items():
            if query and query not in key:
                continue
            if type_name and type_name not in package.package_types:
                continue
            if not request.has_permission(P.VIEW, package):
                continue
            yield package
