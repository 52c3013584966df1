"""Upstream sources of an owner's label: mirrors and pull-through proxies of conda
channels and PyPI indexes (DESIGN.md §10, docs/mirrors.md).

* :mod:`.model`    the persistent :class:`~.model.Source` (``owner.sources``)
* :mod:`.filters`  what of an upstream may enter
* :mod:`.fetch`    bounded, verified HTTP to the upstream
* :mod:`.upstream` reading upstream indexes into plans
* :mod:`.sync`     runs: mirror (copy files) and proxy refresh (list them)
* :mod:`.proxy`    proxied files fetched on first request; indexes revalidated on a TTL
* :mod:`.service`  adding, changing and removing sources
* :mod:`.views`    the API (``/api/sources/<owner>``) and the web page ``/<owner>/mirrors``
"""
from __future__ import annotations


def includeme(config):
    from .proxy import fetch_upstream

    config.add_evolve_step("anarepo.sources.service.add_sources_folder", "anarepo.sources: owner.sources")
    config.registry.anarepo_fetch_upstream = fetch_upstream
    config.add_tween("anarepo.sources.proxy.proxy_tween_factory", over="pyramid_tm.tm_tween_factory")
    config.include(".views")
