"""A ZEO client that survives a restarted server (``kill -9`` included).

ClientStorage fetches new object ids from the server in batches and keeps the
unused ones.  A FileStorage server that was killed restarts from its last
committed transaction and hands those ids out again, to other clients: two
processes then create different objects under one id and the next upload fails
(``ValueError: A different object already has the same oid``).  Forgetting the
kept ids whenever the client (re)connects makes every later id come from the
restarted server.
"""
from __future__ import annotations


def forget_prefetched_oids_on_reconnect(db) -> None:
    try:
        from ZEO.ClientStorage import ClientStorage
    except ImportError:  # pragma: no cover - ZEO is a dependency
        return
    storage = db.storage
    if not isinstance(storage, ClientStorage) or not hasattr(storage, "_oids"):
        return
    connected = storage.notify_connected

    def notify_connected(conn, info):
        del storage._oids[:]  # ids fetched from the previous server process
        return connected(conn, info)

    storage.notify_connected = notify_connected
