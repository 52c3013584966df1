"""Events that keep derived state (indexes, notifications) in step with the tree."""
from __future__ import annotations


class PackageChanged:
    """Files, labels or access of one package changed, inside the current transaction.

    ``removed`` is true when the package itself is gone (deleted or moved away);
    ``previous_owner`` is set when it moved (transfer), so indexes of the old
    owner drop it.
    """

    def __init__(self, package, request=None, removed=False, previous_owner=None):
        self.package = package
        self.request = request
        self.removed = removed
        self.previous_owner = previous_owner


def package_changed(registry, package, request=None, removed=False, previous_owner=None):
    """Tell every type plugin, then every subscriber, that ``package`` changed."""
    event = PackageChanged(package, request, removed, previous_owner)
    for ptype in registry.package_types.values():
        ptype.package_changed(event, registry)
    registry.notify(event)
