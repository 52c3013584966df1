"""Files: ``GET|DELETE /dist/o/p/v/<basename with slashes>``."""
from __future__ import annotations

from ...labels import check_unlocked
from ...publish import remove_distribution
from ...security.permissions import P
from .base import api_view, basename_of, find_dist
from .serialize import dist_json


@api_view("api.dist", "GET")
def get_dist(request):
    m = request.matchdict
    return dist_json(request, find_dist(request, m["owner"], m["package"], m["version"], basename_of(request)))


@api_view("api.dist", "DELETE")
def delete_dist(request):
    """200 with the removed file's JSON (the CLI parses the body)."""
    m = request.matchdict
    dist = find_dist(request, m["owner"], m["package"], m["version"], basename_of(request), P.EDIT)
    check_unlocked(dist.package.owner, dist.labels)
    data = dist_json(request, dist)
    remove_distribution(request.registry, dist, request)
    return data


def includeme(config):
    config.add_route("api.dist", "/api/dist/{owner}/{package}/{version}/*basename")
    config.scan(__name__)
