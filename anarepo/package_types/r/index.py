"""Per-owner CRAN index state: label -> package key -> the latest version's stanza.

Kept current by ``RType.package_changed`` for the one package that changed; the
PACKAGES file is then a join of the stanzas the requester may see.
"""
from __future__ import annotations

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ...plugins.api import (
    add_counts, adopt_plugin_state, drop_plugin_state, package_key, plugin_state, three_way_merge, version_key,
)
from .description import packages_entry


class RIndex(Persistent):
    def __init__(self):
        self.labels = OOBTree()  # label -> OOBTree(package key -> (stanza, basename, version))
        self.revision = 0

    def bump(self):
        self.revision += 1

    def _p_resolveConflict(self, old, committed, new):
        return three_way_merge(old or {}, committed, new, {"revision": add_counts})


STATE = "r"  # the key of the R index in Owner.indexes


def index_of(owner, create: bool = False):
    return plugin_state(owner, STATE, RIndex if create else None)


def reset(owner) -> None:
    drop_plugin_state(owner, STATE)


def move_to_plugin_state(root) -> None:
    """Evolve step ``r.plugin-state-1``: ``owner.r_index`` moves to ``owner.indexes``."""
    adopt_plugin_state(root, "r_index", STATE)


def _drop(owner, key: str) -> None:
    index = index_of(owner)
    if index is None:
        return
    changed = False
    for label in list(index.labels.keys()):
        entries = index.labels[label]
        if key in entries:
            del entries[key]
            changed = True
        if not len(entries):
            del index.labels[label]
    if changed:
        index.bump()


def update_package(event) -> None:
    package = event.package
    key = package_key(package.name)
    if event.previous_owner is not None and event.previous_owner is not package.owner:
        _drop(event.previous_owner, key)
    if event.removed:
        _drop(event.previous_owner or package.owner, key)
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
    for label in list(index.labels.keys()):
        if label not in latest and key in index.labels[label]:
            del index.labels[label][key]
            if not len(index.labels[label]):
                del index.labels[label]
    for label, dist in latest.items():
        entries = index.labels.get(label)
        if entries is None:
            entries = index.labels[label] = OOBTree()
        stanza = packages_entry(dist.attrs, package.name, dist.version, dist.md5)
        entries[key] = (stanza, dist.basename, dist.version)
    index.bump()
