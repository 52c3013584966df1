"""Package settings pages: collaborators and admin (access, transfer, delete)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from ..db import root_factory
from ..errors import PublishError
from ..services.contents import remove_package
from ..resources.packages import ACCESS_LEVELS, Package
from ..security.permissions import P
from ..services import packages as package_service
from ..services.publishing import names_seen_by
from .helpers import form_outcome
from .pages import package_tabs

SECTIONS = ("collaborators", "admin")


def transfer_targets(request, package):
    """Owners the requester controls, other than the package's owner."""
    identity = request.identity
    if identity is None:
        return []
    owners = root_factory(request).owners
    targets = [identity.user] + [owners[o] for o in identity.user.organizations if o in owners]
    return [t for t in targets if t is not package.owner and request.has_permission(P.UPLOAD, t)]


def _apply(request, package, section, action):
    root = root_factory(request)
    registry = request.registry
    if section == "collaborators":
        login = request.POST.get("login", "")
        if action == "add":
            package_service.add_collaborator(registry, root, package, login)
            return f"{login} is now a collaborator."
        if action == "remove":
            package_service.remove_collaborator(registry, root, package, login)
            return f"{login} is no longer a collaborator."
    elif action == "access":
        package_service.set_access(registry, package, request.POST.get("access", ""))
        return f"Access set to {package.access}."
    elif action == "transfer":
        target = root.get_owner(request.POST.get("owner", ""))
        if target is None or target not in transfer_targets(request, package):
            raise PublishError("choose an owner you control")
        with names_seen_by(request):  # a hidden package of the same name is not revealed
            package_service.transfer_package(registry, root, package, target)
        return f"Transferred to {target.login}."
    elif action == "delete":
        if request.POST.get("confirm", "") != package.name:
            raise PublishError(f"type the package's name ({package.name}) to confirm")
        remove_package(registry, package, request)
        return f"Package {package.full_name} deleted."
    raise PublishError(f"unknown action {action!r}")


@view_config(context=Package, name="settings", renderer="package_settings.jinja2", permission=P.ADMIN)
def package_settings(request):
    package = request.context
    section = request.subpath[0] if request.subpath else "collaborators"
    if section not in SECTIONS:
        raise HTTPNotFound()
    owner = package.owner
    values = package_tabs(request, package)
    values.update({
        "tab": "settings", "section": section, "error": None,
        "access_levels": ACCESS_LEVELS, "targets": transfer_targets(request, package),
        "allow_private": request.registry.settings["anarepo.allow_private"],
    })
    if request.method == "POST":
        action = request.POST.get("action", "")

        def change():
            request.session.flash(_apply(request, package, section, action))
            if action == "delete":
                return HTTPFound(location=request.resource_url(owner))
            return HTTPFound(location=request.resource_url(package, "settings", section))

        return form_outcome(request, values, change)
    return values


def includeme(config):
    config.scan(__name__)
