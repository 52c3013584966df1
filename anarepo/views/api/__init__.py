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


def includeme(config):
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
