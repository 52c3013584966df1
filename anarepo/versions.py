"""Ordering of version strings, for "latest version" and version lists.

Package versions are ordered by conda's ``VersionOrder`` (py-rattler's
:class:`rattler.Version`, a maintained implementation of conda's rules): it
ranks ``1.1.1w`` above ``1.1.0`` and ``2.8.5_1`` above ``2.8.4``, which PEP 440
cannot parse at all.  Packages holding only PyPI files keep PEP 440, where the
two orders differ (``1.0.dev1`` < ``1.0a1``, local versions).  Strings neither
parses rank below every parsable version, in a natural order of their parts,
so that mixed lists never raise.
"""
from __future__ import annotations

import re
from functools import lru_cache

from packaging.version import InvalidVersion, Version
from rattler import Version as CondaVersion

_PART = re.compile(r"\d+|[A-Za-z]+")


def _natural(version: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (-1, 0, p.lower()) for p in _PART.findall(version))


@lru_cache(maxsize=65536)
def conda_key(version: str):
    """conda's VersionOrder, via py-rattler."""
    try:
        return (1, CondaVersion(version), ())
    except Exception:  # rattler raises its own InvalidVersionError
        return (0, CondaVersion("0"), _natural(version))


@lru_cache(maxsize=65536)
def pep440_key(version: str):
    """PEP 440 when it parses, the natural order of the parts otherwise."""
    try:
        return (1, Version(version), ())
    except InvalidVersion:
        return (0, Version("0"), _natural(version))


KEYS = {"conda": conda_key, "pep440": pep440_key}
DEFAULT_SCHEME = "conda"


def version_key(version: str, scheme: str = DEFAULT_SCHEME):
    return KEYS[scheme](version)


#: type name -> the order of its versions (``PackageType.version_scheme``), filled
#: as types are registered (``config.add_package_type``); process-wide, like the
#: classes of stored objects, so persistent code (a Package's ``refresh_latest``)
#: can order versions without a registry
TYPE_SCHEMES: dict[str, str] = {}


def register_type_scheme(type_name: str, scheme: str) -> None:
    TYPE_SCHEMES[type_name] = scheme


def scheme_for(package_types) -> str:
    """The order of a package's versions: the one its types agree on (PEP 440 for
    a package of PyPI files only), conda's for a mix or a package of no type."""
    schemes = {TYPE_SCHEMES.get(name, DEFAULT_SCHEME) for name in package_types}
    return schemes.pop() if len(schemes) == 1 else DEFAULT_SCHEME


def latest(versions, scheme: str = DEFAULT_SCHEME) -> str | None:
    versions = list(versions)
    if not versions:
        return None
    return max(versions, key=KEYS[scheme])


def refresh_latest_versions(root) -> None:
    """Evolve step: recompute every package's ``latest_version`` in today's order
    (its ``modified`` time stays: nothing was uploaded)."""
    for owner in root.owners.values():
        for package in owner.packages.values():
            best = latest(package.releases.keys(), scheme_for(package.package_types))
            if best != package.latest_version:
                package.latest_version = best


def store_version_schemes(root) -> None:
    """Evolve step (``core.version-scheme-1``): every package records the order of
    its versions (``Package.version_scheme``), which conflict resolution reads
    where no type is registered (a ZEO server)."""
    for owner in root.owners.values():
        for package in owner.packages.values():
            package._p_activate()
            scheme = scheme_for(package.package_types)
            if package.__dict__.get("version_scheme") != scheme:
                package.version_scheme = scheme


def ordered(versions, scheme: str = DEFAULT_SCHEME) -> list[str]:
    """Oldest first."""
    return sorted(versions, key=KEYS[scheme])
