"""The database's current revision, read through the storage as each backend needs.

Caches outside a transaction (the replay middleware) must know whether anything
committed since they stored an answer, *including commits by other processes*.
``DB.lastTransaction()`` does not tell that on every backend:

* FileStorage, MappingStorage (one process): ``lastTransaction()`` is exact.
* ZEO: the client learns of other processes' commits through invalidation
  messages that arrive 10-30 ms later.  A server round trip (``ping``) first
  makes it current: the server sent every invalidation of a commit it
  acknowledged before it answers the ping, and the client applies messages in
  order.  (``server-sync`` does the same at the start of every transaction.)
* RelStorage: ``lastTransaction()`` of the DB's storage never moves after
  start-up; a poll on a storage instance of our own reads the newest commit.

:func:`revision_reader` returns a callable answering the newest committed
transaction id, or ``None`` when the storage can not be asked (a disconnected
ZEO client, PostgreSQL down): callers must then treat everything as changed.
A disconnected ZEO client answers ``None`` at once: the request itself then
waits for the server once (``anarepo.zeo_wait_timeout``) and answers 503.
"""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def _is_zeo(storage) -> bool:
    try:
        from ZEO.ClientStorage import ClientStorage
    except ImportError:  # pragma: no cover - ZEO is a dependency
        return False
    return isinstance(storage, ClientStorage)


def _is_relstorage(storage) -> bool:
    try:
        from relstorage.storage import RelStorage
    except ImportError:
        return False
    return isinstance(storage, RelStorage)


class ZEORevision:
    """A round trip to the server, then the client's (now current) last tid."""

    def __init__(self, storage):
        self.storage = storage

    def __call__(self):
        if not self.storage.is_connected():  # the server is away: unknown, without waiting for it
            return None
        try:
            self.storage.ping()
        except Exception as exc:  # ClientDisconnected and friends: unknown
            log.debug("ZEO revision unknown: %r", exc)
            return None
        return self.storage.lastTransaction()


class RelStorageRevision:
    """A poll on a private storage instance (one query), serialized by a lock."""

    def __init__(self, storage):
        self.storage = storage
        self.instance = None
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            try:
                if self.instance is None:
                    self.instance = self.storage.new_instance()
                self.instance.sync()
                self.instance.poll_invalidations()
                return self.instance.lastTransaction()
            except Exception as exc:  # the database is unreachable: unknown, start afresh next time
                log.debug("RelStorage revision unknown: %r", exc)
                self._drop()
                return None

    def _drop(self):
        instance, self.instance = self.instance, None
        if instance is not None:
            try:
                instance.release()
            except Exception:  # noqa: BLE001 - already broken
                pass


def revision_reader(db):
    """The reader for ``db``'s storage (see the module docstring)."""
    storage = db.storage
    if _is_zeo(storage):
        return ZEORevision(storage)
    if _is_relstorage(storage):
        return RelStorageRevision(storage)
    return storage.lastTransaction


def keeps_up_with_other_processes(db) -> bool:
    """Whether a new transaction on ``db`` sees every commit acknowledged before it
    began, from any process: true for single-process storages and RelStorage
    (it polls at each transaction start), and for ZEO only with ``server-sync``."""
    storage = db.storage
    if _is_zeo(storage):
        return bool(getattr(storage, "server_sync", False))
    return True
