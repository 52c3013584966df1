"""Files: ``GET|DELETE /dist/o/p/v/<basename with slashes>``."""
from __future__ import annotations

from ...services.labels import check_unlocked
from ...services.contents import remove_distribution
from ...security.permissions import P
from ...resources.packages import Release
from .base import api_view, dist_of
from .serialize import dist_json


@api_view("api.dist", "GET", P.VIEW, context=Release)
def get_dist(context, request):
    return dist_json(request, dist_of(request, context))


@api_view("api.dist", "DELETE", P.EDIT, context=Release)
def delete_dist(context, request):
    """200 with the removed file's JSON (the CLI parses the body)."""
    dist = dist_of(request, context)
    check_unlocked(dist.package.owner, dist.labels)
    data = dist_json(request, dist)
    remove_distribution(request.registry, dist, request)
    return data


def includeme(config):
    config.add_route("api.dist", "/api/dist/{owner}/{package}/{version}/*basename",
                     traverse="/{owner}/{package}/{version}")
    config.scan(__name__)
