"""``anarepo reindex``: rebuild the index state of every type from the stored files.

Index state is kept incrementally by each type's ``package_changed`` (DESIGN.md
§6).  This rebuilds it from scratch, per owner and per type that keeps one
(conda channels, PyPI indexes, CRAN indexes), by the same ``package_changed``,
and reports where the rebuilt state differs from the kept one: the proof that
the incremental path and a full rebuild agree, and the repair when they do not.
"""
from __future__ import annotations

from ..db import ROOT_KEY, get_db
from .events import PackageChanged


def indexed_types(registry, names=None) -> list:
    return [t for n, t in sorted(registry.package_types.items())
            if t.keeps_index and (names is None or n in names)]


def reindex(registry, check_only: bool = False, reinspect: bool = False, progress=None,
            types=None) -> tuple[int, list[str]]:
    """Returns (packages indexed, summed over types; ``"owner (type)"`` whose rebuilt
    state differs from the kept one).  With ``check_only`` nothing is written."""
    ptypes = indexed_types(registry, types)
    differing, count = [], 0
    conn = get_db(registry).open()
    try:
        tm = conn.transaction_manager
        tm.begin()
        root = conn.root()[ROOT_KEY]
        for owner in list(root.owners.values()):
            for ptype in ptypes:
                packages = [p for p in owner.packages.values() if ptype.name in p.package_types]
                before = ptype.index_snapshot(owner)
                if not before and not packages:
                    continue  # nothing of this type here: leave the owner untouched
                ptype.reset_index(owner)
                for package in packages:
                    if reinspect:
                        for dist in package.distributions():
                            if dist.type == ptype.name and dist.upstream is None:  # proxied, not fetched: no bytes
                                ptype.reread(dist)
                    ptype.package_changed(PackageChanged(package), registry)
                    count += 1
                    if progress is not None:
                        progress(1)
                if ptype.index_snapshot(owner) != before:
                    differing.append(f"{owner.login} ({ptype.name})")
        if check_only:
            tm.abort()
        else:
            tm.commit()
    finally:
        conn.close()
    return count, differing
