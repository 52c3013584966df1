"""The labels page of an owner (``/<owner>/labels``): list, copy, lock/unlock,
remove, and move selected files from one label to another
(``/<owner>/labels/<label>``).  Everything goes through :mod:`anarepo.services.labels`.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..services import labels as label_ops
from ..security import visibility
from ..names import InvalidName
from ..errors import NotFound, PublishError
from ..resources.owners import Owner
from ..security.permissions import P
from .helpers import form_error_status


def _summary(request, owner):
    summary = visibility.visible_label_summary(request, owner)
    return sorted(summary.items(), key=lambda item: (item[0] != "main", item[0]))


def _selected(owner, values):
    """Files named ``package/version/basename`` (a basename may hold one ``/``)."""
    out = []
    for value in values:
        parts = value.split("/", 2)
        if len(parts) != 3:
            raise NotFound(f"file {value!r} not found")
        out += label_ops.select(owner, *parts)
    return out


def _apply(request, owner, action, label_name):
    registry = request.registry
    post = request.POST
    if action == "copy":
        source, target = post.get("source", ""), post.get("target", "").strip()
        changed = label_ops.copy_label(registry, owner, source, target, request)
        return f"Copied {len(changed)} file(s) from {source} to {target}."
    if action in ("lock", "unlock"):
        name = post.get("label", "")
        label_ops.set_locked(registry, owner, name, action == "lock", request)
        return f"Label {name} {action}ed."
    if action == "remove":
        name = post.get("label", "")
        label_ops.remove_label(registry, owner, name, request)
        return f"Label {name} removed."
    if action == "move" and label_name:
        target = post.get("target", "").strip()
        dists = _selected(owner, post.getall("file"))
        if not dists:
            raise PublishError("select at least one file to move")
        moved = label_ops.move_files(registry, owner, label_name, target, dists, request)
        return f"Moved {len(moved)} file(s) from {label_name} to {target}."
    raise PublishError(f"unknown action {action!r}")


@view_config(context=Owner, name="labels", renderer="labels.jinja2", permission=P.MANAGE)
def labels_page(request):
    owner = request.context
    label_name = request.subpath[0] if request.subpath else None
    values = {"owner": owner, "labels": _summary(request, owner), "error": None, "label": None, "files": []}
    if label_name is not None:
        label = owner.labels.get(label_name)
        if label is None or len(request.subpath) > 1:
            raise NotFound(f"label {label_name!r} of {owner.login} not found")
        values["label"] = label
        values["files"] = [d for d in label_ops.label_files(owner, label.name)
                           if request.has_permission(P.VIEW, d.package)]
        request.override_renderer = "label.jinja2"
    if request.method == "POST":
        try:
            message = _apply(request, owner, request.POST.get("action", ""), label_name)
        except (InvalidName, PublishError) as exc:
            request.response.status = form_error_status(exc)
            values["error"] = str(exc)
            return values
        request.session.flash(message)
        return HTTPFound(location=request.resource_url(owner, "labels", *( [label_name] if label_name else [])))
    return values


def includeme(config):
    config.scan(__name__)
