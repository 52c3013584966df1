"""A persistent mapping that scales: an OOBTree with a conflict-free Length.

Never a PersistentMapping (one record, rewritten on every add).  Keys are plain
``str``; callers validate and normalize names before they become keys.
"""
from __future__ import annotations

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent


class Folder(Persistent):
    """Ordered ``str`` → object mapping with an O(1) length."""

    def __init__(self):
        self.data = OOBTree()
        self._count = Length()

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
        """Insert a new entry; an existing key is an error, never a silent overwrite."""
        if key in self.data:
            raise KeyError(f"{key!r} exists already")
        self.data[key] = obj
        self._count.change(1)

    def remove(self, key: str):
        obj = self.data.pop(key)
        self._count.change(-1)
        return obj

    def replace(self, key: str, obj) -> None:
        if key not in self.data:
            self._count.change(1)
        self.data[key] = obj


def locate(obj, parent, name: str):
    """Give a persistent child its place in the resource tree."""
    obj.__parent__ = parent
    obj.__name__ = name
    return obj
