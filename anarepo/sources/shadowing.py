"""Local packages shadow upstream ones (the dependency-confusion guard).

A team uploads ``internal-lib``; someone publishes ``internal-lib 99.0`` on
pypi.org or conda-forge.  If a proxy or mirror added that file to the team's
package, every install would take the stranger's higher version.  So a source
never adds files to a package that holds files its owner's users published,
unless the source says ``merge_local`` (a deliberate merge, e.g. a local
rebuild of a conda-forge package next to the upstream builds).  devpi does the
same by default (its ``mirror_whitelist``); Artifactory calls it priority
resolution.

The check runs twice: before a run downloads anything (so a shadowed file is
never fetched, and is counted, not failed, so the run's validators are kept),
and again inside each publishing transaction (a local upload may have created
the package since).
"""
from __future__ import annotations

from ..errors import Conflict
from ..services.publishing import SOURCE_UPLOADERS


class Shadowed(Conflict):
    """An upstream file whose package holds local uploads."""


def holds_local_files(package) -> bool:
    """Whether anyone but a source published into ``package``.  New packages
    carry the answer (``Package.local_uploads``, set by the publishing service);
    packages from before it are read file by file."""
    known = getattr(package, "local_uploads", None)
    if known is not None:
        return known
    for release in package.releases.values():
        for dist in release.files.values():
            if getattr(dist, "upstream", None) is None and not str(dist.uploader or "").startswith(SOURCE_UPLOADERS):
                return True
    return False


class LocalPackages:
    """The guard for one run of one source over one owner (answers are memoized
    per package: the run only ever adds upstream files, which change nothing)."""

    def __init__(self, owner, merge_local: bool):
        self.owner = owner
        self.merge_local = merge_local
        self._known: dict[str, bool] = {}

    def shadows(self, name: str) -> bool:
        if self.merge_local:
            return False
        package = self.owner.get_package(name)
        if package is None:
            return False
        if package.name not in self._known:
            self._known[package.name] = holds_local_files(package)
        return self._known[package.name]

    def check(self, name: str, filename: str) -> None:
        if self.shadows(name):
            raise Shadowed(f"{filename}: {self.owner.login}/{name} holds local uploads; "
                           "upstream files never join it (the source's merge_local allows it)")
