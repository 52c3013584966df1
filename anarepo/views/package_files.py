"""The Files tab of a package page: files grouped by version (expandable),
checkboxes, Delete of files and Actions → Remove of versions, and for files
of yankable types (PyPI) Actions → Yank / Unyank (PEP 592) with an optional
reason.  A type may add a fragment of its own (``PackageType.files_template``).

Delete and Remove ask for the account name (the package owner's login) in a
dialog, or on a confirmation page when JavaScript is off; there is no undo.
Yanking is undone by unyanking, so it asks nothing.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..errors import NotFound, PublishError
from ..names import check_text
from ..services.contents import remove_distribution, remove_release
from ..resources.packages import Package
from ..security.permissions import P
from ..services.packages import MAX_REASON, set_yanked
from .package_info import sorted_releases
from .packages import confirm_page
from .pages import package_tabs


def files_values(request, package, error=None):
    """The tab's values: ``can_yank`` when a type of the package is ``yankable``;
    ``type_fragments``, the ``files_template`` of the package's types."""
    values = package_tabs(request, package)
    types = [t for t in request.registry.package_types.ordered() if t.name in package.package_types]
    values.update(tab="files", releases=sorted_releases(package), error=error,
                  can_yank=any(t.yankable for t in types),
                  type_fragments=[t.files_template for t in types if t.files_template])
    return values


@view_config(context=Package, name="files", renderer="package_files.jinja2", request_method="GET",
             permission=P.VIEW)
def files_tab(request):
    return files_values(request, request.context)


def _selected_files(package):
    def pick(values):
        out = []
        for value in values:
            version, _, basename = value.partition("/")
            release = package.releases.get(version)
            dist = release.files.get(basename) if release is not None else None
            if dist is None:
                raise NotFound(f"file {version}/{basename} of {package.full_name} not found")
            out.append(dist)
        return out
    return pick


@view_config(context=Package, name="files", renderer="package_files.jinja2", request_method="POST",
             permission=P.EDIT)
def files_action(request):
    package = request.context
    owner = package.owner
    action = request.POST.get("action", "")
    back = request.resource_url(package, "files")
    if action in ("yank", "unyank"):
        return _yank(request, package, action, back)
    if action == "delete":
        targets = _selected_files(package)(request.POST.getall("file"))
        items = [f"{d.version}/{d.basename}" for d in targets]
        hidden = [("file", item) for item in items]
        what = "file(s)"
    elif action == "remove":
        targets = []
        for version in request.POST.getall("version"):
            release = package.releases.get(version)
            if release is None:
                raise NotFound(f"version {package.full_name}/{version} not found")
            targets.append(release)
        items = [f"{package.full_name}/{r.version}" for r in targets]
        hidden = [("version", r.version) for r in targets]
        what = "version(s)"
    else:
        raise PublishError(f"unknown action {action!r}")
    if not targets:
        request.response.status = 400
        return files_values(request, package, error=f"Select at least one {what[:-3]} first.")
    confirm = request.POST.get("confirm", "")
    if confirm != owner.login:
        return confirm_page(
            request, title=f"{'Delete' if action == 'delete' else 'Remove'} {len(targets)} {what}",
            message=f"This permanently removes the {what} below from {package.full_name}. There is no undo. "
                    f"Type the account name ({owner.login}) to confirm.",
            hidden=hidden + [("action", action)], field="confirm",
            submit="Delete" if action == "delete" else "Remove", cancel_url=back, items=items, expect=owner.login,
            error=f"The account name does not match; type {owner.login} to confirm." if confirm else None,
        )
    for target in targets:
        if action == "delete":
            remove_distribution(request.registry, target, request)
        else:
            remove_release(request.registry, target, request)
    request.session.flash(f"Removed {', '.join(items)}.")
    return HTTPFound(location=back)


def _yank(request, package, action, back):
    targets = _selected_files(package)(request.POST.getall("file"))
    reason = None
    if action == "yank":
        reason = check_text(request.POST.get("reason", "").strip(), "reason", MAX_REASON)
    error = None if targets else "Select at least one file first."
    if error is None:
        try:
            set_yanked(request.registry, package, targets, reason, request)
        except ValueError as exc:
            error = f"{exc}."
    if error is not None:
        request.response.status = 400
        return files_values(request, package, error=error)
    verb = "Yanked" if action == "yank" else "Unyanked"
    request.session.flash(f"{verb} {', '.join(d.basename for d in targets)}.")
    return HTTPFound(location=back)


def includeme(config):
    config.scan(__name__)
