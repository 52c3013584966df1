"""Labels, called channels in this API: list, show, add/remove files, copy, lock.

Whole-label operations (copy, lock, remove a label) need ``manage`` on the
owner; adding or removing the files of one package needs ``edit`` on it.
Lists and lookups name only the labels :mod:`anarepo.security.visibility` lets the
requester see; another label answers 404 as a missing one does.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...services import labels as label_ops
from ...security import visibility
from ...resources.owners import Owner
from ...security.checks import authorize
from ...security.permissions import P
from .base import api_view, empty, json_body
from .serialize import dist_json


def _spec(body: dict) -> tuple:
    spec = tuple(body.get(k) for k in ("package", "version", "basename"))
    if any(v is not None and not isinstance(v, str) for v in spec):
        raise HTTPBadRequest("package, version and basename must be strings or null")
    package, version, basename = spec
    if (version or basename) and not package:
        raise HTTPBadRequest("a version or file needs its package")
    if basename and not version:
        raise HTTPBadRequest("a file needs its version")
    return spec


def _visible_label(request, owner, name: str):
    """The label ``name`` if the requester may see it; 404 worded as for a missing one."""
    label = label_ops.get_label(owner, name)
    if not visibility.label_visible(request, owner, label.name):
        raise label_ops.NotFound(f"label {name!r} of {owner.login} not found")
    return label


def _files_for_change(request, owner, body: dict, label: str | None = None):
    package, version, basename = _spec(body)
    if package:
        pkg = owner.get_package(package)
        if pkg is None:
            raise label_ops.NotFound(f"package {owner.login}/{package} not found")
        authorize(request, P.EDIT, pkg)
    else:
        authorize(request, P.MANAGE, owner)
    return label_ops.select(owner, package, version, basename, label=label)


@api_view("api.channels", "GET", P.VIEW, context=Owner)
def list_labels(context, request):
    return visibility.visible_label_summary(request, context)


@api_view("api.channel", "GET", P.VIEW, context=Owner)
def show_label(context, request):
    owner = context
    label = _visible_label(request, owner, request.matchdict["label"])
    files = [dist_json(request, d) for d in label_ops.label_files(owner, label.name)
             if request.has_permission(P.VIEW, d.package)]
    return {"name": label.name, "is_locked": label.locked, "num_files": len(files), "files": files}


@api_view("api.channel", "POST", P.VIEW, context=Owner)
def add_to_label(context, request):
    """``edit`` on the package named in the body, or ``manage`` on the owner for all its files."""
    owner = context
    dists = _files_for_change(request, owner, json_body(request))
    label_ops.add_files(request.registry, owner, request.matchdict["label"], dists, request)
    return empty(201)


@api_view("api.channel", "DELETE", P.VIEW, context=Owner)
def remove_from_label(context, request):
    """The whole label needs ``manage`` on the owner; one package's files ``edit`` on it."""
    owner = context
    body = json_body(request)
    label = request.matchdict["label"]
    if not any(body.get(k) for k in ("package", "version", "basename")):
        authorize(request, P.MANAGE, owner)
        label_ops.remove_label(request.registry, owner, label, request)
    else:
        dists = _files_for_change(request, owner, body)
        _visible_label(request, owner, label)
        label_ops.remove_files(request.registry, owner, label, dists, request)
    return empty(201)


@api_view("api.channel_copy", "POST", P.MANAGE, context=Owner)
def copy_label(context, request):
    owner = context
    label_ops.copy_label(request.registry, owner, request.matchdict["label"], request.matchdict["target"], request)
    return empty(201)


@api_view("api.channel_lock", "POST", P.MANAGE, context=Owner)
def lock_label(context, request):
    owner = context
    label_ops.set_locked(request.registry, owner, request.matchdict["label"], True, request)
    return empty(201)


@api_view("api.channel_lock", "DELETE", P.MANAGE, context=Owner)
def unlock_label(context, request):
    owner = context
    label_ops.set_locked(request.registry, owner, request.matchdict["label"], False, request)
    return empty(201)


def includeme(config):
    config.add_route("api.channels", "/api/channels/{owner}", traverse="/{owner}")
    config.add_route("api.channel", "/api/channels/{owner}/{label}", traverse="/{owner}")
    config.add_route("api.channel_copy", "/api/channels/{owner}/{label}/copy/{target}", traverse="/{owner}")
    config.add_route("api.channel_lock", "/api/channels/{owner}/{label}/lock", traverse="/{owner}")
    config.scan(__name__)
