"""Users and organizations: ``GET /user/{login}``, the orgs of a user.

A user's organizations are listed in full to the user; to anyone else only
those whose membership :func:`anarepo.security.visibility.membership_visible` lets them
see (``anaconda show USER`` of a stranger lists none).
"""
from __future__ import annotations

from ...security import visibility
from ...resources.owners import Owner, User
from ...security.permissions import P
from .base import api_view, require_user, requester_view
from .serialize import user_json


@requester_view("api.user_orgs", "GET")
def my_orgs(request):
    return [user_json(org) for org in visibility.visible_organizations(request, require_user(request))]


@api_view("api.user_named", "GET", P.VIEW, context=Owner)
def user_named(context, request):
    """200 for users and organizations (``upload -u ORG`` checks it), 404 otherwise."""
    return user_json(context)


@api_view("api.users_orgs", "GET", P.VIEW, context=User)
def users_orgs(context, request):
    return [user_json(org) for org in visibility.visible_organizations(request, context)]


def includeme(config):
    config.add_route("api.user_orgs", "/api/user/orgs")
    config.add_route("api.user_named", "/api/user/{login}", traverse="/{login}")
    config.add_route("api.users_orgs", "/api/users/{login}/orgs", traverse="/{login}")
    config.scan(__name__)
