"""Package collaborators: list (``edit``), add and remove (``admin``)."""
from __future__ import annotations

from ...services import orgs
from ...security.permissions import P
from ...resources.packages import Package
from .base import api_view, empty


@api_view("api.collaborators", "GET", P.EDIT, context=Package)
def list_collaborators(context, request):
    m = request.matchdict
    package = context
    root = request.root
    out = []
    for login in package.collaborators:
        user = root.get_owner(login)
        out.append({"login": login, "name": (user.name or login) if user is not None else login})
    return out


@api_view("api.collaborator", "PUT", P.ADMIN, context=Package)
def add_collaborator(context, request):
    m = request.matchdict
    package = context
    orgs.add_collaborator(request.registry, request.root, package, m["login"])
    return empty(201)


@api_view("api.collaborator", "DELETE", P.ADMIN, context=Package)
def remove_collaborator(context, request):
    m = request.matchdict
    package = context
    orgs.remove_collaborator(request.registry, request.root, package, m["login"])
    return empty(201)


@api_view("api.collaborator", "GET", P.EDIT, context=Package)
def is_collaborator(context, request):
    m = request.matchdict
    package = context
    login = m["login"].lower()
    if login not in package.collaborators:
        raise orgs.NotFound(f"{login} is not a collaborator on {package.full_name}")
    return {"login": login}


def includeme(config):
    config.add_route("api.collaborators", "/api/packages/{owner}/{package}/collaborators",
                     traverse="/{owner}/{package}")
    config.add_route("api.collaborator", "/api/packages/{owner}/{package}/collaborators/{login}",
                     traverse="/{owner}/{package}")
    config.scan(__name__)
