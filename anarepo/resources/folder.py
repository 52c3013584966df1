"""A persistent mapping that scales: an OOBTree with a conflict-free Length.

Never a PersistentMapping (one record, rewritten on every add).  Keys are plain
``str``; callers normalize names (and check their own rules) before they become
keys, :meth:`Folder.add` refuses keys no URL could carry.  A folder that holds
a resource's children (``Folder(container)``) also locates what it adds, as
Substance D's ``Folder.add`` does: nobody sets ``__name__``/``__parent__`` by hand.
"""
from __future__ import annotations

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent


def check_key(key) -> str:
    """A key a path can carry: a non-empty string without control characters or
    ``.``/``..``/empty segments (file keys may hold a subdir: ``noarch/x.conda``)."""
    if not isinstance(key, str) or not key or len(key) > 1000:
        raise KeyError(f"invalid key {key!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in key) or any(p in ("", ".", "..") for p in key.split("/")):
        raise KeyError(f"invalid key {key!r}")
    return key


class Folder(Persistent):
    """Ordered ``str`` → object mapping with an O(1) length."""

    #: the resource whose children this folder holds: :meth:`add` makes it their
    #: ``__parent__``; None for plain mappings (labels, tokens, token names)
    container = None

    def __init__(self, container=None):
        self.data = OOBTree()
        self._count = Length()
        if container is not None:
            self.container = container

    def __getitem__(self, key: str):
        return self.data[key]

    def get(self, key, default=None):
        return self.data.get(key, default)

    def __contains__(self, key) -> bool:
        return key in self.data

    def __len__(self) -> int:
        return self._count()

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        return iter(self.data.keys())

    def keys(self, min=None, max=None, excludemin=False, excludemax=False):
        return self.data.keys(min, max, excludemin, excludemax)

    def values(self, min=None, max=None, excludemin=False, excludemax=False):
        return self.data.values(min, max, excludemin, excludemax)

    def items(self, min=None, max=None, excludemin=False, excludemax=False):
        return self.data.items(min, max, excludemin, excludemax)

    def add(self, key: str, obj) -> None:
        """Insert a new entry under a valid key and locate it in the container;
        an existing key is an error, never a silent overwrite."""
        check_key(key)
        if key in self.data:
            raise KeyError(f"{key!r} exists already")
        self.data[key] = obj
        self._count.change(1)
        if self.container is not None:
            locate(obj, self.container, key)

    def remove(self, key: str):
        obj = self.data.pop(key)
        self._count.change(-1)
        return obj

    def replace(self, key: str, obj) -> None:
        if key not in self.data:
            self._count.change(1)
        self.data[key] = obj


def locate(obj, parent, name: str):
    """Give a persistent child its place in the resource tree (see :meth:`Folder.add`)."""
    obj.__parent__ = parent
    obj.__name__ = name
    return obj
