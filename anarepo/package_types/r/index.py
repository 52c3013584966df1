"""Per-owner CRAN index state on the core's index skeleton.

Shape (``owner.indexes["r"]``)::

    RIndex (IndexRoot)
      places   package key -> labels the package has an entry in
      labels   label -> RLabel
    RLabel (IndexSkeleton)
      entries     package key -> (stanza, basename, version) of the latest version
      restricted  package key -> package key, for non-public packages
      revision    Revision (and public_revision: changes anonymous readers see)

Kept current by ``RType.package_changed`` for the one package that changed; the
PACKAGES file is then a join of the stanzas the requester may see, rendered once
per (revision, visibility) into the core's document cache.
"""
from __future__ import annotations

from BTrees.OOBTree import OOBTree

from ...plugins.api import (
    IndexRoot, IndexSkeleton, adopt_plugin_state, drop_plugin_state, owner_indexes, package_key, plugin_state,
    version_key,
)
from .description import packages_entry


class RLabel(IndexSkeleton):
    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.entries = OOBTree()


class RIndex(IndexRoot):
    def __init__(self):
        super().__init__()
        self.labels = OOBTree()


STATE = "r"  # the key of the R index in Owner.indexes


def index_of(owner, create: bool = False):
    return plugin_state(owner, STATE, RIndex if create else None)


def reset(owner) -> None:
    drop_plugin_state(owner, STATE)


def move_to_plugin_state(root) -> None:
    """Evolve step ``r.plugin-state-1``: ``owner.r_index`` moves to ``owner.indexes``."""
    adopt_plugin_state(root, "r_index", STATE)


def onto_skeleton(root) -> int:
    """Evolve step ``r.skeleton-1``: an older index (label -> OOBTree of stanzas and an
    integer revision) onto the skeleton: each label's stanzas move into an
    :class:`RLabel` (the same BTree), with the restricted set and places rebuilt
    from the packages' access."""
    count = 0
    for owner, index in owner_indexes(root, STATE):
        if "places" in index.__dict__:
            continue
        old = index.labels
        index.labels, index.places = OOBTree(), OOBTree()
        index.__dict__.pop("revision", None)
        index._p_changed = True
        places: dict[str, list] = {}
        for label, entries in old.items():
            lab = index.labels[label] = RLabel(label)
            lab.entries = entries
            for key in entries.keys():
                package = owner.packages.get(key)
                if package is not None and package.access != "public":
                    lab.restricted[key] = key
                places.setdefault(key, []).append(label)
        for key, labels in places.items():
            index.places[key] = tuple(sorted(labels))
        count += 1
    return count


def _drop_entry(index: RIndex, label: str, key: str) -> None:
    lab = index.labels.get(label)
    if lab is None or key not in lab.entries:
        return
    del lab.entries[key]
    public = key not in lab.restricted
    lab.set_restricted(key, None)
    if not len(lab.entries):
        del index.labels[label]
    else:
        lab.bump(public)


def _drop(owner, key: str) -> None:
    index = index_of(owner)
    if index is None:
        return
    for label in index.places_of(key):
        _drop_entry(index, label, key)
    index.set_places(key, None)


def update_package(event) -> None:
    package = event.package
    key = package_key(package.name)
    if event.previous_owner is not None and event.previous_owner is not package.owner:
        _drop(event.previous_owner, key)
    if event.removed:
        _drop(event.previous_owner or package.owner, key)
        return
    if "r" not in (package.package_types or ()):
        # no R file in it (a conda or PyPI package): nothing to read; a mirror batch
        # changes big conda packages, whose every file the walk below would load
        _drop(package.owner, key)
        return
    latest: dict[str, object] = {}
    for dist in package.distributions():
        if dist.type != "r":
            continue
        for label in dist.labels:
            best = latest.get(label)
            if best is None or version_key(dist.version) > version_key(best.version):
                latest[label] = dist
    owner = package.owner
    index = index_of(owner, create=bool(latest))
    if index is None:
        return
    for label in set(index.places_of(key)) - set(latest):
        _drop_entry(index, label, key)
    restricted = key if package.access != "public" else None
    for label, dist in latest.items():
        lab = index.labels.get(label)
        if lab is None:
            lab = index.labels[label] = RLabel(label)
        value = (packages_entry(dist.attrs, package.name, dist.version, dist.md5), dist.basename, dist.version)
        existed, was_public = key in lab.entries, key not in lab.restricted
        changed = lab.entries.get(key) != value
        if changed:
            lab.entries[key] = value
        changed |= lab.set_restricted(key, restricted)
        if changed:
            lab.bump(restricted is None or (existed and was_public))
    index.set_places(key, tuple(sorted(latest)))
