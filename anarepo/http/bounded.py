"""Parsing untrusted JSON and YAML with bounds: nesting depth and finite numbers.

``json.loads`` accepts ``NaN``, ``Infinity`` and ``1e999`` (an infinite float),
and recurses once per nesting level: a few thousand ``[`` raise ``RecursionError``,
and a few hundred still reach code that recurses again (rendering, pickling into
the database).  These loaders refuse all of that with a ``ValueError`` whose
message says why, so every caller answers 400 instead of 500.
"""
from __future__ import annotations

import json
import math

MAX_DEPTH = 64


class Unbounded(ValueError):
    """Too deeply nested, or a number that is not finite."""


def _no_constant(name: str):
    raise Unbounded(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Unbounded(f"the number {text[:40]} is out of range")
    return value


def check_depth(value, max_depth: int = MAX_DEPTH, what: str = "the document"):
    """Raise :class:`Unbounded` when containers nest deeper than ``max_depth`` (iteratively)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > max_depth:
            raise Unbounded(f"{what} is nested more than {max_depth} levels deep")
        stack.extend((child, depth + 1) for child in children)
    return value


def loads_json(data: bytes | str, max_depth: int = MAX_DEPTH, what: str = "the JSON document", object_hook=None):
    """``json.loads`` with finite numbers only and at most ``max_depth`` levels.

    Deeper documents either stop the parser's own recursion guard
    (``RecursionError``, caught) or are refused by :func:`check_depth` after it.
    """
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, object_hook=object_hook)
    except RecursionError:
        raise Unbounded(f"{what} is nested too deeply") from None
    return check_depth(value, max_depth, what)


def load_yaml(text: str, loader, max_depth: int = MAX_DEPTH, what: str = "the YAML document"):
    """``yaml.load`` with ``loader`` (a SafeLoader), refusing deep nesting and
    non-finite numbers (``.nan``, ``.inf``)."""
    import yaml

    try:
        value = yaml.load(text, Loader=loader)  # noqa: S506 - callers pass SafeLoader (sub)classes
    except RecursionError:
        raise Unbounded(f"{what} is nested too deeply") from None
    check_depth(value, max_depth, what)
    _check_finite(value, what)
    return value


def _check_finite(value, what: str) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise Unbounded(f"{what} holds a number that is not finite")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
