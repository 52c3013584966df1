"""Reachability, the current user, and the helpers every API view shares.

API views are routes (the client's paths carry basenames with slashes), so the
context is the Root; each view finds its object with the ``find_*`` helpers and
checks a permission on it with :func:`require`, which answers exactly as the
forbidden view does for traversal: 401 for bad or missing credentials, 404 for
what the requester may not see, 403 for what they may see but not change.
"""
from __future__ import annotations


from pyramid.httpexceptions import HTTPBadRequest, HTTPUnauthorized
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ... import names
from ...bounded import Unbounded, loads_json
from ...middleware import ORIGINAL_SCRIPT_NAME
from ...publish import NotFound, PublishError
from ...security.permissions import P
from .serialize import user_json


class Forbidden(PublishError):
    """Authenticated but not allowed (pyramid's HTTPForbidden would reach the
    forbidden view, which answers for traversal contexts)."""

    status = 403


def api_view(route_name: str, method: str, **kw):
    """A JSON view of an API route; permissions are checked inside with :func:`require`."""
    kw.setdefault("renderer", "json")
    return view_config(route_name=route_name, request_method=method, permission=NO_PERMISSION_REQUIRED, **kw)


# -- credentials and permissions ---------------------------------------------------
def check_credentials(request) -> None:
    """A present but wrong credential is 401 even on public reads (docs/security.md)."""
    if request.bad_credential:
        raise HTTPUnauthorized(request.bad_credential.reason)


def require_user(request):
    """The authenticated user, or 401."""
    check_credentials(request)
    identity = request.identity
    if identity is None:
        raise HTTPUnauthorized("authentication required")
    return identity.user


def require(request, permission: str, context, what: str = "not found") -> None:
    """Raise the right refusal unless the requester has ``permission`` on ``context``."""
    if request.has_permission(permission, context):
        return
    check_credentials(request)
    if permission != P.VIEW and not request.has_permission(P.VIEW, context):
        raise NotFound(what)
    if permission == P.VIEW:
        raise NotFound(what)
    if request.identity is None:
        raise HTTPUnauthorized("authentication required")
    raise Forbidden("you do not have permission to do that")


def can(request, permission: str, context) -> bool:
    return bool(request.has_permission(permission, context))


# -- lookups -------------------------------------------------------------------
def find_owner(request, login: str):
    check_credentials(request)
    owner = request.root.get_owner(login or "")
    if owner is None:
        raise NotFound(f"user {login!r} not found")
    return owner


def find_package(request, owner_login: str, package_name: str, permission: str = P.VIEW):
    owner = find_owner(request, owner_login)
    package = owner.get_package(package_name)
    what = f"package {owner_login}/{package_name} not found"
    if package is None:
        raise NotFound(what)
    require(request, permission, package, what)
    return package


def find_release(request, owner_login, package_name, version, permission: str = P.VIEW):
    package = find_package(request, owner_login, package_name, permission)
    release = package.releases.get(version)
    if release is None:
        raise NotFound(f"release {owner_login}/{package_name}/{version} not found")
    return release


def find_dist(request, owner_login, package_name, version, basename, permission: str = P.VIEW):
    release = find_release(request, owner_login, package_name, version, permission)
    dist = release.files.get(basename)
    if dist is None:
        raise NotFound("file not found")
    return dist


def basename_of(request, key: str = "basename") -> str:
    """The rest of the path (``*basename``), decoded with ``unquote`` by Pyramid.

    Pyramid folds ``.`` and ``..`` segments away while splitting; a path that
    had them is refused instead, so ``a/../b`` never silently becomes ``b``.
    """
    if any(segment in (".", "..") for segment in request.path_info.split("/")):
        raise names.InvalidName("invalid file name: '.' and '..' are not allowed in paths")
    parts = request.matchdict.get(key) or ()
    return "/".join(parts)


# -- request bodies and URLs ---------------------------------------------------
def json_body(request, required: bool = False) -> dict:
    """The JSON object sent, ``{}`` for an empty body; 400 for anything else."""
    raw = request.body
    if not raw or not raw.strip():
        if required:
            raise HTTPBadRequest("a JSON body is required")
        return {}
    try:
        body = loads_json(raw, what="the body")
    except Unbounded as exc:
        raise HTTPBadRequest(str(exc)) from None
    except (ValueError, UnicodeDecodeError):
        raise HTTPBadRequest("the body is not valid JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise HTTPBadRequest("the body must be a JSON object")
    return body


def text_field(body: dict, key: str, limit: int = names.MAX_SUMMARY) -> str:
    return names.check_text(body.get(key), key, limit)


def public_url(request, path: str) -> str:
    """An absolute URL on this server *without* the ``/t/<token>`` path prefix,
    for links handed to requests made without credentials (uploads, downloads)."""
    return request.host_url + request.environ.get(ORIGINAL_SCRIPT_NAME, request.script_name) + path


def empty(status: int) -> Response:
    """A bodiless success with an exact status (201/204 where the CLI wants them)."""
    response = Response(status=status)
    if status != 204:
        response.content_type = "application/json"
        response.text = "{}"
    return response


# -- reachability and the current user -----------------------------------------
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
