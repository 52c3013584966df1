"""A short cut for the hottest request: an anonymous client fetching a public project page.

``pip install`` and ``uv`` ask for ``/pypi/<owner>[/label/<l>]/simple/<project>/``
far more often than for anything else.  When such a request carries no
credentials at all (no path token, no ``Authorization``), has no query string,
is already normalized, and every package of the project is public, the page is
exactly what the view would serve to anybody.  This tween, which runs inside
pyramid_tm's (doomed) transaction and so reads the same snapshot the view
would, answers from the same page cache with the same key, skipping
traversal, view lookup and the security machinery.  Anything else — a token,
a private package, a redirect, a 404, a 406 — goes down the normal path.
"""
from __future__ import annotations

import re

from pyramid.httpexceptions import HTTPNotAcceptable

from ...plugins.api import InvalidName, TOKEN_ENV, check_label, root_of
from .index import project_index
from .inspect import normalize
from .simple import negotiate, page_response, project_document

PATH = re.compile(r"^/pypi/([^/]+)(?:/label/([^/]+))?/simple/([^/]+)/$")


def fast_simple_tween_factory(handler, registry):
    def fast_simple_tween(request):
        page = _public_page(request)
        return handler(request) if page is None else page

    return fast_simple_tween


def _public_page(request):
    environ = request.environ
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
        return None
    if environ.get(TOKEN_ENV) or environ.get("HTTP_AUTHORIZATION"):
        return None
    match = PATH.match(environ.get("PATH_INFO", ""))
    if match is None:
        return None
    owner_name, label, project = match.groups()
    if normalize(project) != project:
        return None
    try:
        label = check_label(label) if label is not None else "main"
    except InvalidName:
        return None
    owner = root_of(request).get_owner(owner_name)
    if owner is None:
        return None
    pindex = project_index(owner, label, project)
    if pindex is None:
        return None
    access = pindex.access
    if not access or any(level != "public" for level in access.values()):
        return None
    try:
        content_type = negotiate(request)
    except HTTPNotAcceptable:
        return None
    seen = tuple(access)  # what the view computes for anybody when all are public
    page = project_document(request.registry, owner.login, label, project, pindex, seen, content_type)
    return page_response(request, page, restricted=False)


def includeme(config):
    # inside pyramid_tm's transaction (same snapshot as the view) and inside the exception
    # view: opening the connection here can fail (database unreachable) and must be
    # answered like any other failure (503), not escape to waitress as a bare 500
    from pyramid.tweens import EXCVIEW

    config.add_tween("anarepo.package_types.pypi.fastpath.fast_simple_tween_factory", under=EXCVIEW)
