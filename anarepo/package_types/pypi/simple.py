"""Simple-index views: content negotiation, visibility, redirects, caching, 304.

A requester sees exactly the packages it may read: public packages need no
check (the face's own VIEW check already applied the token's scopes and
organization), restricted ones are checked one by one with
``request.has_permission``.  The set of visible restricted packages is part of
the key of the page in the core's document cache (``cached_document``), with
the index revision, so an anonymous client and a token holder never share a
page with different content.
"""
from __future__ import annotations

from urllib.parse import quote

from pyramid.httpexceptions import HTTPFound, HTTPMovedPermanently, HTTPNotAcceptable, HTTPNotFound
from pyramid.view import view_config
from webob.acceptparse import create_accept_header

from ...plugins.api import (
    ORIGINAL_PATH, PUBLIC, P, cached_document, document_response, readable, root_projects, visible_subset, web_page_url,
)
from . import render
from .render import make_page
from .face import ROUTE, OwnerFace, ProjectPage, SimpleRoot
from .index import label_index, project_index
from .inspect import normalize

DEFAULT_MAX_AGE = 30

_NEGOTIATED: dict[str, str | None] = {}
_NEGOTIATED_MAX = 512


def _from_accept(accept: str) -> str | None:
    """Accept header → concrete type (memoized: clients send a handful of distinct headers)."""
    try:
        return _NEGOTIATED[accept]
    except KeyError:
        pass
    offers = create_accept_header(accept).acceptable_offers(render.OFFERS)
    result = render.CONCRETE[offers[0][0]] if offers else None
    if len(_NEGOTIATED) < _NEGOTIATED_MAX:
        _NEGOTIATED[accept] = result
    return result


def negotiate(request) -> str:
    """The concrete content type to answer with; 406 when nothing is acceptable."""
    fmt = request.GET.get("format") if request.environ.get("QUERY_STRING") else None
    if fmt is not None:
        # an unencoded "+" arrives as a space: accept what people type in a browser
        concrete = render.CONCRETE.get(fmt.strip().replace(" ", "+"))
        if concrete is None:
            raise HTTPNotAcceptable(f"unknown format {fmt!r}; use one of {', '.join(render.OFFERS)}")
        return concrete
    accept = request.environ.get("HTTP_ACCEPT", "").strip()
    if not accept:
        return render.HTML
    concrete = _from_accept(accept)
    if concrete is None:
        raise HTTPNotAcceptable(
            "none of the requested content types is available; offered: " + ", ".join(render.OFFERS)
        )
    return concrete


def _client_path(request) -> str:
    """The path the client asked for (token segment and subdomain form included)."""
    return request.environ.get(ORIGINAL_PATH) or (request.script_name + request.path_info)


def redirect_to(request, last_segment: str | None = None):
    """301 to the same URL with a normalized last segment and a trailing slash."""
    path = _client_path(request)
    base = path.rstrip("/")
    if last_segment is not None:
        base = base.rsplit("/", 1)[0] + "/" + last_segment
    location = request.host_url + quote(base, safe="/") + "/"
    if request.query_string:
        location += "?" + request.query_string
    raise HTTPMovedPermanently(location=location)


def page_response(request, page, restricted: bool):
    """The page's bytes (gzip when accepted), each coding with its own ETag; 304 on a match."""
    gzip_ok = page.gzipped is not None and "gzip" in request.environ.get("HTTP_ACCEPT_ENCODING", "")
    html = page.content_type == render.HTML
    return document_response(
        request, (lambda: page.gzipped) if gzip_ok else (lambda: page.body),
        etag=f"{page.etag}-gz" if gzip_ok else page.etag,
        content_type=page.content_type + ("; charset=utf-8" if html else ""), public=not restricted,
        max_age=request.registry.settings.get("anarepo.pypi.max_age", DEFAULT_MAX_AGE),
        vary="Accept, Accept-Encoding", encoding="gzip" if gzip_ok else None)


@view_config(route_name=ROUTE, context=OwnerFace, request_method=("GET", "HEAD"), permission=P.VIEW)
def index_in_a_browser(context, request):
    """``/pypi/<owner>[/label/<l>]`` (the guide's ``pypi.<host>/<owner>``) is where
    twine uploads; opened in a browser it leads to the owner's web page."""
    return HTTPFound(location=web_page_url(request, context.owner.login, context.label))


@view_config(route_name=ROUTE, context=SimpleRoot, request_method=("GET", "HEAD"), permission=P.VIEW)
def simple_root(context, request):
    if not request.path_info.endswith("/"):
        redirect_to(request)
    content_type = negotiate(request)
    lindex = label_index(context.owner, context.label)
    visible, vis = visible_subset(request, context.owner, lindex)
    revision = lindex.validators(vis)[0] if lindex is not None else ""  # revision and visibility
    proxied_key, proxied = root_projects(context.owner, context.label)
    key = ("pypi", "index", context.owner.login, context.label, revision, content_type, proxied_key)

    def build():
        rows = []
        skip = lindex.hidden(visible) if lindex is not None else set()
        if lindex is not None:
            rows = [(name, p.display_name) for name, p in lindex.projects.items() if name not in skip]
        if proxied:  # a PyPI proxy lists every upstream project its filters let through
            local = {name for name, _ in rows} | skip
            rows = sorted(rows + [(name, name) for name in proxied if name not in local])
        body = render.index_json(rows) if render.is_json(content_type) else render.index_html(rows)
        return make_page(body, content_type)

    page = cached_document(request, key, build)
    # private only when this requester sees a restricted project: the anonymous page
    # does not reveal that private projects exist
    return page_response(request, page, restricted=vis != PUBLIC)


@view_config(route_name=ROUTE, context=ProjectPage, request_method=("GET", "HEAD"), permission=P.VIEW)
def project_page(context, request):
    project = normalize(context.segment)
    if project != context.segment:
        redirect_to(request, project)
    if not request.path_info.endswith("/"):
        redirect_to(request)
    content_type = negotiate(request)
    pindex = project_index(context.owner, context.label, project)
    if pindex is None:
        raise HTTPNotFound()
    access = pindex.access
    public = tuple(k for k, a in access.items() if a == "public")
    seen = public + readable(request, context.owner, [k for k, a in access.items() if a != "public"])
    if not seen:
        raise HTTPNotFound()
    restricted = len(seen) != len(public)
    page = project_document(request, context.owner.login, context.label, project, pindex, seen, content_type)
    return page_response(request, page, restricted)


def project_document(request, owner_login: str, label: str, project: str, pindex, seen: tuple,
                     content_type: str):
    """The rendered page for the packages ``seen``, from the cache or rendered now."""
    key = ("pypi", "project", owner_login, label, project, pindex.revision, seen, content_type)

    def build():
        allowed = set(seen)
        records = render.sort_records(r for r in pindex.files.values() if r["pkey"] in allowed)
        if render.is_json(content_type):
            body = render.project_json(project, records)
        else:
            body = render.project_html(project, records)
        return make_page(body, content_type)

    return cached_document(request, key, build)
