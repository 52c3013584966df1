"""``POST|PUT|PATCH /copy/package/o/p/v/[basename]``: copy files to another label or owner.

* Within one owner a copy is a label change (the same file gains ``to_channel``).
* To another owner the file is published there
  (:func:`anarepo.services.packages.copy_files`), sharing the immutable blob
  (no byte copy).  ``POST`` refuses a file that exists at the target (409),
  ``PUT`` (``--replace``) replaces it, ``PATCH`` (``--update``) keeps an
  identical file (adding the label) and replaces a different one.
* ``to_owner: null`` means the requester's own account.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...services import labels as label_ops
from ... import names
from ...errors import NotFound
from ...resources.packages import Release
from ...security.checks import authorize
from ...security.permissions import P
from ...services import packages
from .base import api_view, basename_of, json_body, require_user
from .serialize import dist_json

#: what an existing file at the target means for each method (anaconda copy, --replace, --update)
COPY_MODES = {"POST": "refuse", "PUT": "replace", "PATCH": "update"}


def _label(body, key):
    value = body.get(key) or label_ops.DEFAULT_LABEL
    if not isinstance(value, str):
        raise HTTPBadRequest(f"{key} must be a label name")
    return names.check_label(value)


def copy_files(request):
    """The context is the source release (``view`` declared); the target is
    checked once: EDIT on the package for a label change, else UPLOAD by
    :func:`anarepo.services.packages.copy_files`."""
    user = require_user(request)
    body = json_body(request)
    from_label, to_label = _label(body, "from_channel"), _label(body, "to_channel")
    release = request.context
    package = release.package
    basename = basename_of(request)
    if basename:
        dist = release.files.get(basename)
        if dist is None:
            raise NotFound("file not found")
        candidates = [dist]
    else:
        candidates = list(release.files.values())
    dists = [d for d in candidates if from_label in d.labels]
    target_login = body.get("to_owner") or user.login
    if not isinstance(target_login, str):
        raise HTTPBadRequest("to_owner must be a user or organization name")
    target = request.root.get_owner(target_login)
    if target is None:
        raise NotFound(f"user {target_login!r} not found")
    if target is package.owner:
        authorize(request, P.EDIT, package)
        changed = label_ops.add_files(request.registry, target, to_label, dists, request)
        return [dist_json(request, d) for d in changed]
    # upload rights on the target: checked once, by the service (also when nothing is copied)
    copied = packages.copy_files(package, release, dists, target, to_label, mode=COPY_MODES[request.method],
                                 uploader=user.login, request=request)
    return [dist_json(request, d) for d in copied]


@api_view("api.copy", "POST", P.VIEW, context=Release)
def copy_post(request):
    return copy_files(request)


@api_view("api.copy", "PUT", P.VIEW, context=Release)
def copy_put(request):
    return copy_files(request)


@api_view("api.copy", "PATCH", P.VIEW, context=Release)
def copy_patch(request):
    return copy_files(request)


def includeme(config):
    config.add_route("api.copy", "/api/copy/package/{owner}/{package}/{version}/*basename",
                     traverse="/{owner}/{package}/{version}")
    config.scan(__name__)
