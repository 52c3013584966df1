"""Ordering of version strings from any package type, for "latest version"."""
from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

_PART = re.compile(r"\d+|[A-Za-z]+")


def version_key(version: str):
    """A sort key: PEP 440 when it parses, a natural order of the parts otherwise.

    Keys of both kinds compare with each other, so mixed lists never raise.
    """
    try:
        return (1, Version(version), ())
    except InvalidVersion:
        parts = tuple(
            (0, int(p), "") if p.isdigit() else (-1, 0, p.lower()) for p in _PART.findall(version)
        )
        return (0, Version("0"), parts)


def latest(versions) -> str | None:
    versions = list(versions)
    if not versions:
        return None
    return max(versions, key=version_key)
