"""The anaconda.org ("binstar") REST API under ``/api``, as anaconda-client 1.16 calls it.

Routes with traversal, as Warehouse does: the client's paths (``/package/o/p``,
``/dist/o/p/v/<basename with slashes>``...) traverse the object tree
(``traverse="/{owner}/{package}"``), so each view has the object as its context
and declares the permission it needs on it; the forbidden view answers 404,
401 or 403 (:mod:`anarepo.views.errors`).  Views never read the web session;
identity comes from tokens only.  One module per area; ``notices`` comes last
because its ``/{owner}/notices`` routes must not shadow the fixed ones.
"""
from __future__ import annotations

from ...plugins.faces import ANY, Scope
from ...security.permissions import P

#: The anaconda.org scopes of the API face; repository faces add their own
#: (``conda:download``...) and their grants to ``all``, ``repos``, ``api:write``.
API_SCOPES = {
    "all": Scope("Allow all operations", {ANY: ANY}),
    "api": Scope("Allow all API operations", {"api": ANY}),
    "api:read": Scope("Allow read access to the API site", {"api": (P.VIEW,)}),
    "api:write": Scope("Allow write access to the API site", {"api": (P.VIEW, P.UPLOAD, P.EDIT, P.ADMIN)}),
    # groups only: never the organization's owners, labels or its deletion
    "api:modify-group": Scope("Allow modification of groups", {"api": (P.VIEW, P.MANAGE_GROUPS)}),
    "repos": Scope("Allow access to all package repositories", {"api": (P.VIEW,)}),
}


def includeme(config):
    # JSON errors; a typed read scope (``conda:download``) reads files of its type here
    config.add_face("api", mount="api", error_format="json", scopes=API_SCOPES, typed_reads=True,
                    title="anaconda.org API")
    config.include(".base")
    config.include(".auth")
    config.include(".users")
    config.include(".packages")
    config.include(".collaborators")
    config.include(".releases")
    config.include(".dists")
    config.include(".upload")
    config.include(".download")
    config.include(".labels")
    config.include(".copy")
    config.include(".groups")
    config.include(".search")
    config.include(".notices")
    config.include(".organizations")
