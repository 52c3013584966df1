"""Web pages for organizations: create, switch to, groups, owners, delete."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from ..services import orgs
from ..services.accounts import create_organization
from ..db import root_factory
from ..names import reserved_owner_names, split_names
from ..errors import PublishError
from ..resources.owners import Organization
from ..security.permissions import GROUP_LEVELS, P
from .account import account_factory
from .helpers import form_outcome

ACTING_AS = "acting_as"


def acting_owner(request):
    """The owner the user acts as ("Switch To"): themselves or an org they belong to."""
    identity = request.identity
    if identity is None:
        return None
    login = request.session.get(ACTING_AS)
    if login and login in identity.user.organizations:
        org = root_factory(request).owners.get(login)
        if org is not None:
            return org
    return identity.user


def my_organizations(request):
    identity = request.identity
    if identity is None:
        return []
    owners = root_factory(request).owners
    return [owners[o] for o in identity.user.organizations if o in owners]


def controlled_owners(request, permission=P.UPLOAD):
    """The user and their organizations on which they hold ``permission``."""
    identity = request.identity
    if identity is None:
        return []
    candidates = [identity.user] + my_organizations(request)
    return [o for o in candidates if request.has_permission(permission, o)]


@view_config(route_name="organizations", renderer="organizations.jinja2", permission=P.ACCOUNT)
def organizations(request):
    user = request.context
    values = {"user": user, "orgs": my_organizations(request), "error": None, "form": {}}
    if request.method == "POST":
        login, email = request.POST.get("name", ""), request.POST.get("email", "")
        values["form"] = {"name": login[:100], "email": email[:300]}

        def create():
            org = create_organization(root_factory(request), login, email, user,
                                      reserved=reserved_owner_names(request.registry))
            request.session[ACTING_AS] = org.login
            request.session.flash(f"Organization {org.login} created. You are now acting as {org.login}.")
            return HTTPFound(location=request.route_url("dashboard"))

        return form_outcome(request, values, create)
    return values


@view_config(route_name="switch", request_method="POST", permission=P.ACCOUNT)
def switch(request):
    target = request.POST.get("owner", "")
    user = request.context
    if target and target != user.login:
        if target not in user.organizations:
            raise HTTPNotFound()
        request.session[ACTING_AS] = target
        request.session.flash(f"You are now acting as {target}.")
    else:
        request.session.pop(ACTING_AS, None)
        request.session.flash(f"You are acting as yourself ({user.login}).")
    return HTTPFound(location=request.route_url("dashboard"))


def _group_form(request, org, group):
    """Apply the group editor's fields; raise on the first bad one (nothing kept)."""
    root = root_factory(request)
    permission = request.POST.get("permission")
    if permission and permission != group.permission:
        orgs.set_group_permission(request.registry, org, group, permission)
    for login in split_names(request.POST.get("members", "")):
        if login not in group.members:
            orgs.add_group_member(root, org, group, login)
    for name in split_names(request.POST.get("packages", "")):
        if name.lower() not in group.packages:
            orgs.add_group_package(request.registry, org, group, name)


@view_config(context=Organization, name="groups", renderer="org_groups.jinja2", permission=P.MANAGE_GROUPS)
def groups(request):
    org = request.context
    if request.subpath:
        return group_page(request, org, request.subpath[0])
    values = {"org": org, "groups": list(org.groups.values()), "levels": GROUP_LEVELS, "error": None, "form": {}}
    if request.method == "POST":
        values["form"] = {k: request.POST.get(k, "")[:2000] for k in ("name", "permission", "members", "packages")}

        def create():
            group = orgs.create_group(org, request.POST.get("name", ""), request.POST.get("permission", "read"))
            _group_form(request, org, group)
            request.session.flash(f"Group {group.name} saved.")
            return HTTPFound(location=request.resource_url(org, "groups", group.name))

        return form_outcome(request, values, create)
    return values


def group_page(request, org, name):
    group = org.groups.get(name.lower())
    if group is None:
        raise HTTPNotFound()
    values = {"org": org, "group": group, "levels": GROUP_LEVELS, "error": None}
    request.override_renderer = "org_group.jinja2"
    if request.method == "POST":
        action = request.POST.get("action", "save")
        root = root_factory(request)

        def change():
            if action == "save":
                _group_form(request, org, group)
            elif action == "remove_member":
                orgs.remove_group_member(root, org, group, request.POST.get("login", ""))
            elif action == "remove_package":
                orgs.remove_group_package(request.registry, org, group, request.POST.get("package", ""))
            elif action == "delete":
                orgs.remove_group(request.registry, root, org, group.name)
                request.session.flash(f"Group {group.name} deleted.")
                return HTTPFound(location=request.resource_url(org, "groups"))
            else:
                raise PublishError(f"unknown action {action!r}")
            request.session.flash(f"Group {group.name} saved.")
            return HTTPFound(location=request.resource_url(org, "groups", group.name))

        return form_outcome(request, values, change)
    return values


@view_config(context=Organization, name="settings", renderer="org_settings.jinja2", permission=P.MANAGE)
def org_settings(request):
    org = request.context
    values = {"org": org, "error": None}
    if request.method == "POST":
        action = request.POST.get("action", "")
        root = root_factory(request)

        def change():
            if action == "add_owner":
                orgs.add_org_owner(root, org, request.POST.get("login", ""))
            elif action == "remove_owner":
                orgs.remove_org_owner(root, org, request.POST.get("login", ""))
            elif action == "delete":
                if request.POST.get("confirm", "") != org.login:
                    raise PublishError(f"type the organization's name ({org.login}) to confirm")
                orgs.delete_organization(request.registry, root, org)
                request.session.pop(ACTING_AS, None)
                request.session.flash(f"Organization {org.login} and all its data were deleted.")
                return HTTPFound(location=request.route_url("dashboard"))
            else:
                raise PublishError(f"unknown action {action!r}")
            request.session.flash("Saved.")
            return HTTPFound(location=request.resource_url(org, "settings"))

        return form_outcome(request, values, change)
    return values


def includeme(config):
    config.add_route("organizations", "/organizations", factory=account_factory)
    config.add_route("switch", "/account/switch", factory=account_factory)
    config.scan(__name__)
