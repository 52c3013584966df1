"""The dashboard: the packages of the owner you act as, your organizations, notifications."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..services.notifications import inbox_of
from ..security.permissions import P
from .account import account_factory
from .orgs import acting_owner, my_organizations
from .pages import visible_packages


@view_config(route_name="dashboard", renderer="dashboard.jinja2", permission=P.ACCOUNT, request_method="GET")
def dashboard(request):
    user = request.context
    owner = acting_owner(request)
    packages, more = visible_packages(request, owner, limit=50)
    inbox = inbox_of(user)
    return {
        "user": user,
        "owner": owner,
        "packages": packages,
        "more": more,
        "orgs": my_organizations(request),
        "notifications": inbox.newest(20) if inbox else [],
        "unread": inbox.unread() if inbox else 0,
        "can_manage": request.has_permission(P.MANAGE, owner),
    }


@view_config(route_name="dashboard", permission=P.ACCOUNT, request_method="POST")
def mark_read(request):
    inbox = inbox_of(request.context)
    if inbox is not None:
        inbox.mark_all_read()
    return HTTPFound(location=request.route_url("dashboard"))


def includeme(config):
    config.add_route("dashboard", "/dashboard", factory=account_factory)
    config.scan(__name__)
