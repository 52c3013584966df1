"""What a requester may see in listings: groups, memberships and labels.

Reads of private objects are refused by the ACLs (404); these are the rules for
the names that *lists* carry, so a group list, a user's organizations or a
label list never names what the requester may not read (docs/security.md,
"Listings").  Every face (API, web, conda) asks here.

* **Groups** of an organization: its managers (``manage-groups``: owners,
  Administration groups, site admins) see every group with its members and
  packages; any other member sees only the groups they belong to.
* **Memberships**: that user U belongs to organization O is seen by U, by O's
  managers, by O's members when U is an owner of O (the owners are shown to
  members), and by members of a group U is in.
* **Labels** of an owner: ``main`` always; every label for the owner's managers
  (``manage``); any other label only when a file of a package the requester may
  read carries it.
"""
from __future__ import annotations

from ..services.labels import DEFAULT_LABEL
from .permissions import P
from .policy import acting_login


def _login(request, org) -> str | None:
    """Who looks, where their credential counts: a token outside its scopes or its
    organization adds nothing here either (the requester is anonymous)."""
    return acting_login(request, org)


# -- groups -----------------------------------------------------------------------------
def manages_groups(request, org) -> bool:
    return bool(request.has_permission(P.MANAGE_GROUPS, org))


def group_visible(request, org, group) -> bool:
    login = _login(request, org)
    return login is not None and (login in group.members or manages_groups(request, org))


def visible_groups(request, org) -> list:
    manager = manages_groups(request, org)
    login = _login(request, org)
    return [g for g in org.groups.values() if manager or (login is not None and login in g.members)]


# -- memberships ------------------------------------------------------------------------
def membership_visible(request, org, login: str) -> bool:
    """May the requester learn that ``login`` belongs to ``org``?"""
    viewer = _login(request, org)
    if viewer is None:
        return False
    if viewer == login or manages_groups(request, org):
        return True
    groups = org.groups.values()
    viewer_is_member = viewer in org.owners or any(viewer in g.members for g in groups)
    if login in org.owners:
        return viewer_is_member
    return any(viewer in g.members and login in g.members for g in groups)


def visible_organizations(request, user) -> list:
    """The organizations of ``user`` whose membership the requester may see."""
    root = request.root
    out = []
    for login in user.organizations:
        org = root.get_owner(login)
        if org is not None and org.kind == "org" and membership_visible(request, org, user.login):
            out.append(org)
    return out


# -- labels -----------------------------------------------------------------------------
def manages_labels(request, owner) -> bool:
    return bool(request.has_permission(P.MANAGE, owner))


def label_visible(request, owner, name: str) -> bool:
    """Whether the requester may know that ``owner`` has the label ``name``.

    Walks the owner's packages until a readable one carries the label (the
    label list does the same walk to count files)."""
    if name not in owner.labels:
        return False
    if name == DEFAULT_LABEL or manages_labels(request, owner):
        return True
    for package in owner.packages.values():
        if any(name in dist.labels for dist in package.distributions()) \
                and request.has_permission(P.VIEW, package):
            return True
    return False


def visible_label_summary(request, owner) -> dict:
    """label → {is_locked, num_files} of the labels the requester may see, counting
    only files of packages it may read."""
    from ..services.labels import label_summary

    summary = label_summary(owner, visible=lambda p: request.has_permission(P.VIEW, p))
    if manages_labels(request, owner):
        return summary
    return {name: value for name, value in summary.items() if name == DEFAULT_LABEL or value["num_files"]}
