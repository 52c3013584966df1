"""Events that keep derived state (indexes, notifications) in step with the tree."""
from __future__ import annotations

from transaction.interfaces import NoTransaction


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

    @property
    def batch(self):
        """The :class:`~anarepo.services.publishing.Batch` open in the transaction
        this change is written in (many files published at once), or None."""
        return current_batch(self.package if self.package.__parent__ is not None else self.previous_owner)


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


#: the key of the open batch in a transaction's data (``Transaction.data``)
BATCH_KEY = object()


def current_batch(obj):
    """The batch open in the transaction ``obj`` (a persistent object, or one
    placed under one) is written in, or None."""
    while obj is not None and getattr(obj, "_p_jar", None) is None:
        obj = getattr(obj, "__parent__", None)
    if obj is None:
        return None
    try:
        return obj._p_jar.transaction_manager.get().data(BATCH_KEY)
    except (KeyError, NoTransaction):
        return None


def notify(registry, event) -> None:
    """Tell every type plugin, then every subscriber, about ``event``."""
    for ptype in registry.package_types.values():
        ptype.package_changed(event, registry)
    registry.notify(event)


def package_changed(registry, package, request=None, removed=False, previous_owner=None, added=None):
    """Tell every type plugin, then every subscriber, that ``package`` changed."""
    notify(registry, PackageChanged(package, request, removed, previous_owner, added))
