"""Tools → Packages → Files: every file of the acting owner, grouped by package.

The spec's "Deleting files through the user interface": expand a package, tick
files, Delete, and confirm by typing the account name (there is no undo).
Only files of packages the requester may edit get a checkbox; a forged
selection of anything else answers 404 (invisible) or 403 before any change.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..errors import NotFound
from ..services.contents import remove_distribution
from ..security.checks import authorize
from ..security.permissions import P
from ..versions import version_key
from .account import account_factory
from .orgs import acting_owner
from .packages import _filters, confirm_page, filtered_packages, type_filters


def grouped_files(request, owner):
    type_name, access = _filters(request, request.params)
    packages, next_after = filtered_packages(request, owner, type_name, access, request.params.get("after") or None)
    groups = []
    for package in packages:
        scheme = package.version_scheme
        dists = sorted(package.distributions(), key=lambda d: (version_key(d.version, scheme), d.basename),
                       reverse=True)
        groups.append((package, dists, request.has_permission(P.EDIT, package)))
    return {"owner": owner, "groups": groups, "next_after": next_after, "type_filters": type_filters(request.registry),
            "type_filter": type_name, "access_filter": access, "error": None}


@view_config(route_name="owner_files", renderer="owner_files.jinja2", permission=P.ACCOUNT, request_method="GET")
def owner_files(request):
    return grouped_files(request, acting_owner(request))


def selected_files(request, owner):
    """The checked files, each of a package the requester may edit (else the forbidden view answers)."""
    out = []
    for value in request.POST.getall("file"):
        name, _, rest = value.partition("/")
        version, _, basename = rest.partition("/")
        package = owner.get_package(name)
        if package is None:
            raise NotFound(f"file {owner.login}/{value} not found")
        authorize(request, P.EDIT, package)
        release = package.releases.get(version)
        dist = release.files.get(basename) if release is not None else None
        if dist is None:
            raise NotFound(f"file {owner.login}/{value} not found")
        out.append(dist)
    return out


@view_config(route_name="owner_files", renderer="owner_files.jinja2", permission=P.ACCOUNT, request_method="POST")
def delete_files(request):
    owner = acting_owner(request)
    back = request.route_url("owner_files")
    dists = selected_files(request, owner)
    if request.POST.get("action") != "delete" or not dists:
        request.response.status = 400
        values = grouped_files(request, owner)
        values["error"] = "Select at least one file first." if not dists else "Unknown action."
        return values
    items = [f"{d.package.name}/{d.version}/{d.basename}" for d in dists]
    confirm = request.POST.get("confirm", "")
    if confirm != owner.login:
        return confirm_page(
            request, title=f"Delete {len(dists)} file(s)",
            message=f"This permanently deletes the files below. There is no undo. "
                    f"Type the account name ({owner.login}) to confirm.",
            hidden=[("file", item) for item in items] + [("action", "delete")], field="confirm",
            submit="Delete", cancel_url=back, items=items, expect=owner.login,
            error=f"The account name does not match; type {owner.login} to confirm." if confirm else None,
        )
    for dist in dists:
        remove_distribution(request.registry, dist, request)
    request.session.flash(f"Deleted {', '.join(items)}.")
    return HTTPFound(location=back)


def includeme(config):
    config.add_route("owner_files", "/packages/files", factory=account_factory)
    config.scan(__name__)
