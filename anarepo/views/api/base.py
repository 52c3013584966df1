"""Reachability, the current user, and the helpers every API view shares.

API routes are on traversal: each route has a ``traverse`` pattern over the
object tree (``/api/package/{owner}/{package}`` traverses ``/{owner}/{package}``
from the Root), so each view has the Package, Release or Owner as its context
and declares the permission it needs there, as Warehouse's routes do.  The
policy decides, and the one forbidden view (:mod:`anarepo.views.errors`)
answers 404 for what the requester may not see, 401 without (valid)
credentials, 403 for what it may see but not change.  Basenames keep their
slashes: routes traverse to the Release and the view looks the file up in the
rest of the path (``*basename``).  Views never read the web session; identity
comes from tokens only.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest, HTTPUnauthorized
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ... import names
from ...http.bounded import Unbounded, loads_json
from ...http.middleware import ORIGINAL_SCRIPT_NAME
from ...errors import NotFound
from .serialize import user_json


def api_view(route_name: str, method: str, permission: str, **kw):
    """A JSON view of an API route with the permission it needs on its context."""
    kw.setdefault("renderer", "json")
    return view_config(route_name=route_name, request_method=method, permission=permission, **kw)


def requester_view(route_name: str, method: str, **kw):
    """A view about the requester's own credential (who am I, my tokens, log out).

    It needs a valid credential of any scope, so it declares no permission
    (docs/security.md lists these) and answers 401 through :func:`require_user`.
    """
    kw.setdefault("renderer", "json")
    return view_config(route_name=route_name, request_method=method, permission=NO_PERMISSION_REQUIRED, **kw)


def require_user(request):
    """The authenticated user, or 401 (with the reason of a refused credential)."""
    if request.bad_credential:
        raise HTTPUnauthorized(request.bad_credential.reason)
    identity = request.identity
    if identity is None:
        raise HTTPUnauthorized("authentication required")
    return identity.user


def dist_of(request, release):
    """The file of ``release`` named by the rest of the path (``*basename``), or 404."""
    dist = release.files.get(basename_of(request))
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
    faces = request.registry.anarepo_faces.by_name.values()
    return {
        "status": "ok",
        "api_url": f"{base}/api",
        # the repository faces' URLs, under the keys anaconda-client reads (conda_url, pypi_url)
        **{face.api_root_key: f"{base}/{face.mount}" for face in faces if face.api_root_key},
        "main_url": base,
    }


@requester_view("api.user", "GET")
def current_user(request):
    return user_json(require_user(request))


def includeme(config):
    config.add_route("api.root", "/api")
    config.add_route("api.root_slash", "/api/")
    config.add_view(head_root, route_name="api.root_slash", request_method="HEAD", permission=NO_PERMISSION_REQUIRED)
    config.add_view(get_root, route_name="api.root_slash", request_method="GET", renderer="json", permission=NO_PERMISSION_REQUIRED)
    config.add_route("api.user", "/api/user")
    config.scan(__name__)
