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


def package_changed(registry, package, request=None, removed=False, previous_owner=None, added=None):
    """Tell every type plugin, then every subscriber, that ``package`` changed."""
    event = PackageChanged(package, request, removed, previous_owner, added)
    for ptype in registry.package_types.values():
        ptype.package_changed(event, registry)
    registry.notify(event)
