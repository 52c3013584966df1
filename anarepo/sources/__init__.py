"""Upstream sources of an owner's label: mirrors and pull-through proxies of conda
channels and PyPI indexes (DESIGN.md §10).

* :mod:`.model`    the persistent :class:`~.model.Source` (``owner.sources``)
* :mod:`.filters`  what of an upstream may enter
* :mod:`.fetch`    bounded, verified HTTP to the upstream
* :mod:`.upstream` reading upstream indexes into plans
* :mod:`.sync`     mirror runs through the publishing path
* :mod:`.service`  adding, changing and removing sources
"""
from __future__ import annotations


def includeme(config):
    config.add_evolve_step("anarepo.sources.service.add_sources_folder", "anarepo.sources: owner.sources")
