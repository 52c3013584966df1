"""Web pages of the tree: the home page, owner pages and package pages."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..security import visibility
from ..resources.owners import Owner
from ..resources.packages import Package
from ..resources.root import Root
from ..security.permissions import P
from .package_info import download_chart, install_sections, package_labels, sorted_releases, total_downloads

PAGE_SIZE = 100


def visible_packages(request, owner, after: str | None = None, limit: int = PAGE_SIZE, keep=None):
    """Packages of ``owner`` the requester may see (and ``keep`` accepts), a page
    at a time (BTree range).

    Returns the page and the key to continue after (None on the last page).
    """
    keys = owner.packages.keys(min=after, excludemin=True) if after else owner.packages.keys()
    out, last = [], None
    for key in keys:
        if len(out) >= limit:
            return out, last
        package = owner.packages[key]
        last = key
        if (keep is None or keep(package)) and request.has_permission(P.VIEW, package):
            out.append(package)
    return out, None


@view_config(context=Root, renderer="home.jinja2", permission=P.VIEW)
def home(request):
    identity = request.identity
    mine = []
    if identity is not None:
        mine, _ = visible_packages(request, identity.user, limit=20)
    return {"my_packages": mine}


@view_config(context=Owner, renderer="owner.jinja2", permission=P.VIEW)
def owner_page(request):
    return _owner_values(request, request.context)


@view_config(context=Owner, name="label", renderer="owner.jinja2", permission=P.VIEW)
def owner_label_page(request):
    """``/<owner>/label/<label>``: the channel URL of the guide opened in a browser
    (``/<owner>/label/main`` is the default channel): the packages with files on it.
    A label the requester may not see (:mod:`anarepo.security.visibility`) is missing."""
    owner = request.context
    if len(request.subpath) != 1 or not visibility.label_visible(request, owner, request.subpath[0].lower()):
        raise HTTPNotFound("no such label")
    label = request.subpath[0].lower()
    return _owner_values(request, owner, label)


def _owner_values(request, owner, label=None) -> dict:
    after = request.params.get("after") or None
    keep = None if label is None else (lambda p: any(label in d.labels for d in p.distributions()))
    packages, next_after = visible_packages(request, owner, after=after, keep=keep)
    return {
        "owner": owner,
        "label": label,
        "packages": packages,
        "next_after": next_after,
        "can_manage": request.has_permission(P.MANAGE, owner),
    }


def package_tabs(request, package) -> dict:
    """Values every tab of a package page shares (header, tabs, rights)."""
    return {
        "package": package,
        "owner": package.owner,
        "can_edit": request.has_permission(P.EDIT, package),
        "can_admin": request.has_permission(P.ADMIN, package),
    }


@view_config(context=Package, renderer="package.jinja2", permission=P.VIEW)
def package_page(request):
    package = request.context
    types = request.registry.package_types
    sections = []
    for type_name in package.package_types:
        ptype = types.get(type_name)
        if ptype is not None and ptype.page_template:
            sections.append((ptype.page_template, ptype.page_context(request, package)))
    values = package_tabs(request, package)
    values.update(
        tab="overview",
        releases=sorted_releases(package),
        labels=package_labels(package),
        install=install_sections(request, package),
        sections=sections,
        downloads=total_downloads(package),
        chart=download_chart(package),
    )
    return values


def includeme(config):
    config.scan(__name__)
