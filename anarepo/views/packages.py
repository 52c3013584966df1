"""Tools → Packages and Tools → Projects: the acting owner's packages, filtered,
with bulk Delete (type the account name; there is no undo) and Set access.

The bulk buttons open a <dialog> when JavaScript runs; without it the same POST
lacks the confirmation field and gets a confirmation page instead (so nothing
is ever deleted by one click).
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..errors import NotFound, PublishError
from ..names import InvalidName
from ..services.contents import remove_package
from ..resources.packages import ACCESS_LEVELS
from ..security.checks import authorize
from ..security.permissions import P
from ..services import packages as package_service
from .account import account_factory
from .helpers import form_error_status
from .orgs import acting_owner

PAGE_SIZE = 100

def type_filters(registry) -> list[tuple[str, str]]:
    """The type filter of the lists: (value, title), each type named by its plugin's
    title (``ipynb`` is "Notebook" wherever a person reads it)."""
    types = sorted(registry.package_types.values(), key=lambda t: (t.title or t.name).lower())
    return [("", "All")] + [(t.name, t.title or t.name) for t in types]


def filtered_packages(request, owner, type_name="", access="", after=None, limit=PAGE_SIZE):
    """Visible packages of ``owner`` matching the filters, a page at a time."""
    keys = owner.packages.keys(min=after, excludemin=True) if after else owner.packages.keys()
    out = []
    for key in keys:
        package = owner.packages[key]
        if type_name and type_name not in package.package_types:
            continue
        if access and package.access != access:
            continue
        if not request.has_permission(P.VIEW, package):
            continue
        if len(out) >= limit:
            return out, out[-1].name.lower()
        out.append(package)
    return out, None


def _filters(request, params):
    type_name = params.get("type", "")
    access = params.get("access", "")
    return (
        type_name if type_name in request.registry.package_types else "",
        access if access in ACCESS_LEVELS else "",
    )


def list_values(request, owner, fixed_type=None, **extra):
    type_name, access = _filters(request, request.params)
    if fixed_type:
        type_name = fixed_type
    packages, next_after = filtered_packages(request, owner, type_name, access, request.params.get("after") or None)
    values = {
        "owner": owner,
        "packages": packages,
        "next_after": next_after,
        "type_filters": type_filters(request.registry),
        "access_levels": ACCESS_LEVELS,
        "allow_private": request.registry.settings["anarepo.allow_private"],
        "type_filter": type_name,
        "access_filter": access,
        "fixed_type": fixed_type,
        "list_title": (request.registry.package_types[fixed_type].list_title or "Packages") if fixed_type else "Packages",
        "list_url": request.route_url("type_list", list_path=request.registry.package_types[fixed_type].list_path)
        if fixed_type else request.route_url("packages"),
        "can_admin": {p.name: request.has_permission(P.ADMIN, p) for p in packages},
        "error": None,
    }
    values.update(extra)
    return values


@view_config(route_name="packages", renderer="packages.jinja2", permission=P.ACCOUNT, request_method="GET")
def packages_list(request):
    return list_values(request, acting_owner(request))


def listed_type(request):
    """The type of a type's own list page (``/projects``: ``PackageType.list_path``), else None."""
    route = request.matched_route
    if route is None or route.name != "type_list":
        return None
    return type_lists(request.registry)[request.matchdict["list_path"]]


def type_lists(registry) -> dict:
    """list path -> type, for the types with a list page of their own."""
    return {t.list_path: t for t in registry.package_types.ordered() if t.list_path}


class ListPathPredicate:
    """Matches ``/{list_path}`` only for a type's list path (other names go on to traversal)."""

    def __init__(self, value, config):
        self.value = value

    def text(self):
        return f"type_list_path = {self.value}"

    phash = text

    def __call__(self, info, request):
        return not self.value or info["match"].get("list_path") in type_lists(request.registry)


@view_config(route_name="type_list", renderer="packages.jinja2", permission=P.ACCOUNT, request_method="GET")
def type_list(request):
    return list_values(request, acting_owner(request), fixed_type=listed_type(request).name)


def selected_packages(request, owner, permission=P.ADMIN):
    """The checked packages, each one the requester may act on (else the forbidden view answers)."""
    out = []
    for name in request.POST.getall("package"):
        package = owner.get_package(name)
        if package is None:
            raise NotFound(f"package {owner.login}/{name} not found")
        authorize(request, permission, package)
        out.append(package)
    return out


def confirm_page(request, *, title, message, hidden, field, submit, cancel_url, error=None, items=(), expect=""):
    """The no-JavaScript confirmation step of a bulk action (also re-shown on a wrong answer)."""
    from pyramid.renderers import render_to_response

    response = render_to_response("confirm.jinja2", {
        "title": title, "message": message, "hidden": hidden, "field": field, "submit": submit,
        "cancel_url": cancel_url, "error": error, "items": items, "expect": expect,
        "access_levels": ACCESS_LEVELS, "allow_private": request.registry.settings["anarepo.allow_private"],
    }, request=request)
    if error:
        response.status = 400
    return response


@view_config(route_name="packages", renderer="packages.jinja2", permission=P.ACCOUNT, request_method="POST")
@view_config(route_name="type_list", renderer="packages.jinja2", permission=P.ACCOUNT, request_method="POST")
def packages_bulk(request):
    owner = acting_owner(request)
    listed = listed_type(request)
    fixed_type = listed.name if listed is not None else None
    action = request.POST.get("action", "")
    packages = selected_packages(request, owner)
    back = request.route_url(request.matched_route.name, _query=_back_query(request), **request.matchdict)
    if not packages:
        request.response.status = 400
        return list_values(request, owner, fixed_type, error="Select at least one package first.")
    hidden = [("package", p.name) for p in packages] + [("action", action)]
    items = [p.full_name for p in packages]
    if action == "delete":
        confirm = request.POST.get("confirm", "")
        if confirm != owner.login:
            return confirm_page(
                request, title=f"Delete {len(packages)} package(s)",
                message=f"This permanently deletes the packages below with all their versions and files. "
                        f"There is no undo. Type the account name ({owner.login}) to confirm.",
                hidden=hidden, field="confirm", submit="Delete", cancel_url=back, items=items, expect=owner.login,
                error=f"The account name does not match; type {owner.login} to confirm." if confirm else None,
            )
        for package in packages:
            remove_package(request.registry, package, request)
        request.session.flash(f"Deleted {', '.join(items)}.")
        return HTTPFound(location=back)
    if action == "access":
        access = request.POST.get("access", "")
        if not access:
            return confirm_page(
                request, title=f"Set access of {len(packages)} package(s)",
                message="Who may see and download the packages below?", hidden=hidden, field="access",
                submit="Set access", cancel_url=back, items=items,
            )
        try:
            for package in packages:
                package_service.set_access(request.registry, package, access)
        except (InvalidName, PublishError) as exc:
            request.response.status = form_error_status(exc)
            return list_values(request, owner, fixed_type, error=str(exc))
        request.session.flash(f"Access of {', '.join(items)} set to {access}.")
        return HTTPFound(location=back)
    request.response.status = 400
    return list_values(request, owner, fixed_type, error=f"Unknown action {action!r}.")


def _back_query(request):
    type_name, access = _filters(request, {"type": request.POST.get("type", ""), "access": request.POST.get("access_filter", "")})
    return {k: v for k, v in (("type", type_name), ("access", access)) if v}


def includeme(config):
    config.add_route("packages", "/packages", factory=account_factory)
    # a type's own list page (``/projects``); only its list paths match, so owner pages are untouched
    config.add_route_predicate("type_list_path", ListPathPredicate)
    config.add_route("type_list", "/{list_path}", factory=account_factory, type_list_path=True)
    config.scan(__name__)
