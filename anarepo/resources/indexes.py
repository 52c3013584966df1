"""The skeleton every package-type index builds on (conda channels, PyPI and R indexes).

An index answers documents (``repodata.json``, a simple page, ``PACKAGES``) from
state kept in the transaction that changed a package; the three built-in ones and
a third party's need the same four things, kept here once:

* :class:`Revision`: a change counter and the time of the last change whose
  concurrent bumps add up (two uploads into one index never conflict on it);
  ``public_revision`` counts only changes an anonymous reader sees, so the public
  documents' validators stay put when a private package changes;
* ``restricted``: entry name → package key(s) of the entries no anonymous
  reader sees (an entry with several keys is visible when any of them is
  readable, e.g. a PyPI project held by two packages);
* ``places`` on the owner-level root (:class:`IndexRoot`): package key → where
  the package has entries, so a change of one package touches only those
  (the value's shape is the type's: ``(label, subdir, name)`` triples for
  conda, ``(project, labels)`` for PyPI, labels for R);
* :meth:`IndexSkeleton.visible_subset`: the ONE filter of what a requester may
  list, and the visibility key document caches are keyed by
  (:mod:`anarepo.http.caching`).

Types subclass :class:`IndexSkeleton` (per label, per subdir...) and
:class:`IndexRoot` (per owner, in ``owner.indexes[<plugin>]``) and add their
entries; the classes hold no entries themselves.
"""
from __future__ import annotations

import hashlib

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from .. import clock
from ..security.permissions import P

#: the visibility key of what anybody may see
PUBLIC = "p"


class Revision(Persistent):
    """A change counter and the time of the last change; concurrent bumps add up."""

    def __init__(self):
        self.counter = 0
        self.mtime = clock.epoch()

    def bump(self) -> None:
        self.counter += 1
        self.mtime = max(clock.epoch(), self.mtime)

    def _p_resolveConflict(self, old, committed, new):
        return {
            "counter": committed["counter"] + new["counter"] - old["counter"],
            "mtime": max(committed["mtime"], new["mtime"]),
        }


def oid_hex(obj) -> str:
    oid = getattr(obj, "_p_oid", None)
    return oid.hex().lstrip("0") or "0" if oid else "0"


def readable(request, owner, keys) -> tuple[str, ...]:
    """The package keys among ``keys`` whose package the requester may read."""
    out = []
    for key in keys:
        package = owner.packages.get(key)
        if package is not None and request.has_permission(P.VIEW, package):
            out.append(key)
    return tuple(out)


class IndexSkeleton(Persistent):
    """Revision, public revision and restricted set of one index (see the module
    docstring); subclasses call :meth:`__init__` and add their entries."""

    def __init__(self):
        self.revision = Revision()
        self.public_revision = Revision()
        self.restricted = OOBTree()

    def bump(self, public: bool = True) -> None:
        """Count a change; ``public``: an anonymous reader sees it too."""
        self.revision.bump()
        if public:
            self.public_revision.bump()

    def set_restricted(self, name: str, keys) -> bool:
        """Mark entry ``name`` restricted to package key(s) ``keys`` (None or empty:
        public); whether that changed anything (nothing is written otherwise)."""
        return set_or_drop(self.restricted, name, keys)

    def visible_subset(self, request, owner) -> tuple[frozenset, str]:
        """The restricted entry names this requester may see, and the visibility
        key of that subset (``"p"``: none, the anonymous view).

        Anonymous requesters never read non-public packages: no check at all."""
        restricted = self.restricted
        if not len(restricted) or request.identity is None:
            return frozenset(), PUBLIC
        names = [name for name, keys in restricted.items()
                 if readable(request, owner, (keys,) if isinstance(keys, str) else keys)]
        if not names:
            return frozenset(), PUBLIC
        digest = hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]
        return frozenset(names), "v" + digest

    def hidden(self, visible: frozenset) -> set:
        """The restricted names outside ``visible`` (what a document must skip)."""
        return set(self.restricted.keys()) - visible if len(self.restricted) else set()

    def validators(self, vis: str) -> tuple[str, float]:
        """ETag (unquoted) and last change time of a document rendered for visibility
        ``vis``: the public view follows only changes an anonymous reader sees (``a``
        marks that counter, so it never collides with a tag of the full one)."""
        if vis == PUBLIC:
            rev = self.public_revision
            return f"{oid_hex(self)}.a{rev.counter}.p", rev.mtime
        rev = self.revision
        return f"{oid_hex(self)}.{rev.counter}.{vis}", rev.mtime


def visible_subset(request, owner, index) -> tuple[frozenset, str]:
    """:meth:`IndexSkeleton.visible_subset` of ``index``, or the public view of none."""
    return (frozenset(), PUBLIC) if index is None else index.visible_subset(request, owner)


class IndexRoot(Persistent):
    """An owner's index of one type (``owner.indexes[<plugin>]``): package key →
    places; subclasses add their per-label (or other) skeletons."""

    def __init__(self):
        self.places = OOBTree()

    def places_of(self, key: str):
        return self.places.get(key, ())

    def set_places(self, key: str, places) -> bool:
        """Record where package ``key`` has entries (empty: nowhere); no write when unchanged."""
        return set_or_drop(self.places, key, places)


def set_or_drop(tree, key, value) -> bool:
    """``tree[key] = value``, or no entry when ``value`` is empty; writes (and
    returns True) only when that changes the tree, so unchanged state never conflicts."""
    if value:
        if tree.get(key) != value:
            tree[key] = value
            return True
        return False
    if key in tree:
        del tree[key]
        return True
    return False


def owner_indexes(root, plugin: str):
    """``(owner, index)`` of every owner that has ``plugin``'s index (for evolve steps)."""
    for owner in root.owners.values():
        index = owner.indexes.get(plugin)
        if index is not None:
            index._p_activate()
            yield owner, index
