"""Reachability and the current user."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPUnauthorized
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .serialize import user_json


@view_config(route_name="api.root", request_method="HEAD", permission=NO_PERMISSION_REQUIRED)
def head_root(request):
    """``HEAD {url}`` must answer 200 without a redirect, whatever the credentials."""
    return Response(status=200, content_type="application/json")


@view_config(route_name="api.root", request_method="GET", renderer="json", permission=NO_PERMISSION_REQUIRED)
def get_root(request):
    base = request.application_url
    return {
        "status": "ok",
        "api_url": f"{base}/api",
        "conda_url": f"{base}/conda",
        "pypi_url": f"{base}/pypi",
        "main_url": base,
    }


def require_user(request):
    identity = request.identity
    if identity is None:
        raise HTTPUnauthorized()
    return identity.user


@view_config(route_name="api.user", request_method="GET", renderer="json", permission=NO_PERMISSION_REQUIRED)
def current_user(request):
    return user_json(require_user(request))


def includeme(config):
    config.add_route("api.root", "/api")
    config.add_route("api.root_slash", "/api/")
    config.add_view(head_root, route_name="api.root_slash", request_method="HEAD", permission=NO_PERMISSION_REQUIRED)
    config.add_view(get_root, route_name="api.root_slash", request_method="GET", renderer="json", permission=NO_PERMISSION_REQUIRED)
    config.add_route("api.user", "/api/user")
    config.scan(__name__)
