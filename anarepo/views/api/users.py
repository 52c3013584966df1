"""Users and organizations: ``GET /user/{login}``, the orgs of a user."""
from __future__ import annotations


from .base import NotFound, api_view, check_credentials, find_owner, require_user
from .serialize import user_json


def orgs_of(root, user) -> list[dict]:
    out = []
    for login in user.organizations:
        org = root.get_owner(login)
        if org is not None and org.kind == "org":
            out.append(user_json(org))
    return out


@api_view("api.user_orgs", "GET")
def my_orgs(request):
    return orgs_of(request.root, require_user(request))


@api_view("api.user_named", "GET")
def user_named(request):
    """200 for users and organizations (``upload -u ORG`` checks it), 404 otherwise."""
    return user_json(find_owner(request, request.matchdict["login"]))


@api_view("api.users_orgs", "GET")
def users_orgs(request):
    check_credentials(request)
    owner = find_owner(request, request.matchdict["login"])
    if owner.kind != "user":
        raise NotFound(f"{owner.login} is not a user")
    return orgs_of(request.root, owner)


def includeme(config):
    config.add_route("api.user_orgs", "/api/user/orgs")
    config.add_route("api.user_named", "/api/user/{login}")
    config.add_route("api.users_orgs", "/api/users/{login}/orgs")
    config.scan(__name__)
