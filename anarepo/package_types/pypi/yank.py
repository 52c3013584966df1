"""Yanking (PEP 592): a file or all the PyPI files of a release.

Yanking itself is :func:`anarepo.services.packages.set_yanked` (the web Files
tab, ``views/package_files.py``, uses it too).

``POST /api/yank/<owner>/<package>/<version>[/<basename>]`` with an optional
reason (JSON ``{"reason": "..."}``, a form field or ``?reason=``) yanks;
``DELETE`` on the same URL unyanks.  The route traverses to the release and
the views declare ``edit`` on it (the package's ACL); the forbidden view gives
the usual answers: 404 when the requester may not see it, 401 without
credentials, 403 when it may see but not edit.  The index is updated in the
same transaction (``package_changed``), so the next simple page shows it.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config

from ...plugins.api import MAX_REASON, NotFound, P, Release, check_text, set_yanked


def _reason(request) -> str:
    reason = request.params.get("reason")
    if reason is None and request.body and "json" in (request.content_type or ""):
        try:
            body = request.json_body
        except ValueError:
            raise HTTPBadRequest("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise HTTPBadRequest("the body must be a JSON object")
        reason = body.get("reason")
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise HTTPBadRequest("reason must be a string")
    return check_text(reason.strip(), "reason", MAX_REASON)


def _targets(request):
    release = request.context
    package = release.package
    basename = request.matchdict.get("basename")
    if basename:
        dist = release.files.get(basename)
        if dist is None:
            raise NotFound(f"file {basename} not found")
        if dist.type != "pypi":
            raise HTTPBadRequest(f"{basename} is not a PyPI file; only those can be yanked")
        dists = [dist]
    else:
        dists = [d for d in release.files.values() if d.type == "pypi"]
        if not dists:
            raise HTTPBadRequest(f"{package.full_name}/{release.version} has no PyPI files to yank")
    return package, dists


def _answer(dists):
    return {"files": [{"basename": d.basename, "version": d.version, "yanked": d.yanked is not None,
                       "yanked_reason": d.yanked} for d in dists]}


@view_config(route_name="api.pypi.yank_release", request_method="POST", renderer="json", context=Release,
             permission=P.EDIT)
@view_config(route_name="api.pypi.yank_file", request_method="POST", renderer="json", context=Release,
             permission=P.EDIT)
def yank(request):
    package, dists = _targets(request)
    set_yanked(request.registry, package, dists, _reason(request), request)
    return _answer(dists)


@view_config(route_name="api.pypi.yank_release", request_method="DELETE", renderer="json", context=Release,
             permission=P.EDIT)
@view_config(route_name="api.pypi.yank_file", request_method="DELETE", renderer="json", context=Release,
             permission=P.EDIT)
def unyank(request):
    package, dists = _targets(request)
    set_yanked(request.registry, package, dists, None, request)
    return _answer(dists)


def includeme(config):
    config.add_route("api.pypi.yank_release", "/api/yank/{owner}/{package}/{version}",
                     traverse="/{owner}/{package}/{version}")
    config.add_route("api.pypi.yank_file", "/api/yank/{owner}/{package}/{version}/{basename}",
                     traverse="/{owner}/{package}/{version}")
    config.scan(__name__)
