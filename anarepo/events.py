"""Events that keep derived state (indexes, notifications) in step with the tree."""
from __future__ import annotations


class PackageChanged:
    """Files, labels or access of one package changed, inside the current transaction.

    ``removed`` is true when the package itself is gone (deleted or moved away);
    ``previous_owner`` is set when it moved (transfer), so indexes of the old
    owner drop it.  ``added`` is set when the one change is a new Distribution
    (an upload that replaced nothing), so indexes may add just its record.
    """

    def __init__(self, package, request=None, removed=False, previous_owner=None, added=None):
        self.package = package
        self.request = request
        self.removed = removed
        self.previous_owner = previous_owner
        self.added = added


class FilePublished(PackageChanged):
    """One file was published (:func:`anarepo.services.publishing.publish`, the
    only place that fires it).  ``dist`` is the new Distribution (``added`` too,
    unless it replaced a file); ``info`` is the FileInfo inspection produced, so
    indexes take what the type parsed (``info.payload``) instead of re-reading
    the blob."""

    def __init__(self, package, dist, info, request=None, replaced=False):
        super().__init__(package, request, added=None if replaced else dist)
        self.dist = dist
        self.info = info


def notify(registry, event) -> None:
    """Tell every type plugin, then every subscriber, about ``event``."""
    for ptype in registry.package_types.values():
        ptype.package_changed(event, registry)
    registry.notify(event)


def package_changed(registry, package, request=None, removed=False, previous_owner=None, added=None):
    """Tell every type plugin, then every subscriber, that ``package`` changed."""
    notify(registry, PackageChanged(package, request, removed, previous_owner, added))
