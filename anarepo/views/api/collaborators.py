"""Package collaborators: list (``edit``), add and remove (``admin``)."""
from __future__ import annotations

from ... import orgs
from ...security.permissions import P
from .base import api_view, empty, find_package


@api_view("api.collaborators", "GET")
def list_collaborators(request):
    m = request.matchdict
    package = find_package(request, m["owner"], m["package"], P.EDIT)
    root = request.root
    out = []
    for login in package.collaborators:
        user = root.get_owner(login)
        out.append({"login": login, "name": (user.name or login) if user is not None else login})
    return out


@api_view("api.collaborator", "PUT")
def add_collaborator(request):
    m = request.matchdict
    package = find_package(request, m["owner"], m["package"], P.ADMIN)
    orgs.add_collaborator(request.registry, request.root, package, m["login"])
    return empty(201)


@api_view("api.collaborator", "DELETE")
def remove_collaborator(request):
    m = request.matchdict
    package = find_package(request, m["owner"], m["package"], P.ADMIN)
    orgs.remove_collaborator(request.registry, request.root, package, m["login"])
    return empty(201)


@api_view("api.collaborator", "GET")
def is_collaborator(request):
    m = request.matchdict
    package = find_package(request, m["owner"], m["package"], P.EDIT)
    login = m["login"].lower()
    if login not in package.collaborators:
        raise orgs.NotFound(f"{login} is not a collaborator on {package.full_name}")
    return {"login": login}


def includeme(config):
    config.add_route("api.collaborators", "/api/packages/{owner}/{package}/collaborators")
    config.add_route("api.collaborator", "/api/packages/{owner}/{package}/collaborators/{login}")
    config.scan(__name__)
