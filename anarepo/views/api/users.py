"""Users and organizations: ``GET /user/{login}``, the orgs of a user."""
from __future__ import annotations

from ...resources.owners import Owner, User
from ...security.permissions import P
from .base import api_view, require_user, requester_view
from .serialize import user_json


def orgs_of(root, user) -> list[dict]:
    out = []
    for login in user.organizations:
        org = root.get_owner(login)
        if org is not None and org.kind == "org":
            out.append(user_json(org))
    return out


@requester_view("api.user_orgs", "GET")
def my_orgs(request):
    return orgs_of(request.root, require_user(request))


@api_view("api.user_named", "GET", P.VIEW, context=Owner)
def user_named(context, request):
    """200 for users and organizations (``upload -u ORG`` checks it), 404 otherwise."""
    return user_json(context)


@api_view("api.users_orgs", "GET", P.VIEW, context=User)
def users_orgs(context, request):
    return orgs_of(request.root, context)


def includeme(config):
    config.add_route("api.user_orgs", "/api/user/orgs")
    config.add_route("api.user_named", "/api/user/{login}", traverse="/{login}")
    config.add_route("api.users_orgs", "/api/users/{login}/orgs", traverse="/{login}")
    config.scan(__name__)
