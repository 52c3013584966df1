"""Helpers shared by the built-in package types."""
from __future__ import annotations

import os

from ..plugins.api import InvalidPackage, utcnow


def read_bounded(path, limit: int, what: str) -> bytes:
    """Read a whole (small) file, refusing anything over ``limit`` bytes."""
    size = os.path.getsize(path)
    if size > limit:
        raise InvalidPackage(f"{what} is {size} bytes; the limit is {limit}")
    with open(path, "rb") as f:
        return f.read()


def stem(filename: str, *suffixes: str) -> str:
    base = filename.rsplit("/", 1)[-1]
    for suffix in suffixes:
        if base.lower().endswith(suffix):
            return base[: -len(suffix)]
    return base


def timestamp_version() -> str:
    """Versions for uploads that carry none (notebooks, environments): the upload time."""
    return utcnow().strftime("%Y.%m.%d.%H%M%S")
