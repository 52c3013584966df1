"""Conflict resolution by three-way merge, for hot persistent objects.

ZODB calls ``_p_resolveConflict(old, committed, new)`` when two transactions
changed one object; a class that knows how its attributes combine returns the
merged state instead of failing one of the writers.
"""
from __future__ import annotations

import hashlib

from ZODB.POSException import ConflictError

_MISSING = object()


def _same(a, b) -> bool:
    try:
        return a is b or bool(a == b)
    except (TypeError, ValueError):  # persistent references of other databases
        return False


def three_way_merge(old: dict, committed: dict, new: dict, merges: dict) -> dict:
    """Merge two concurrent changes of one object's state (``_p_resolveConflict``).

    An attribute with a rule in ``merges`` that either side changed gets
    ``rule(old, committed, new)`` (``None`` for an absent value; a rule raises
    ``ConflictError`` when no merge is right).  Any other attribute changed on
    one side only takes that change, and changed on both sides must be equal:
    anything else is a real conflict, and the transaction is retried.
    """
    merged = dict(committed)
    for key in set(old) | set(committed) | set(new):
        o, c, n = old.get(key, _MISSING), committed.get(key, _MISSING), new.get(key, _MISSING)
        if _same(o, c) and _same(o, n):
            continue
        if key in merges:
            value = merges[key](*(None if v is _MISSING else v for v in (o, c, n)))
            merged[key] = value
        elif _same(c, n) or _same(o, n):
            continue
        elif _same(o, c):
            if n is _MISSING:
                merged.pop(key, None)
            else:
                merged[key] = n
        else:
            raise ConflictError(f"{key!r} changed on both sides")
    return merged


def fresh_revision(old, committed: str, new: str) -> str:
    """Two new cache revisions merged into a third, distinct from both (one
    new revision is kept as it is)."""
    if old == committed or old == new:
        return new if old == committed else committed
    return hashlib.sha256(f"{committed} {new}".encode()).hexdigest()[:32]


def add_counts(old, committed: int, new: int) -> int:
    return committed + new - (old or 0)
