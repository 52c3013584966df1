"""A ZEO client that survives a restarted server (``kill -9`` included), and
answers promptly while it is away.

Waiting: while the server is unreachable, every storage call waits for the
connection up to ClientStorage's ``wait_timeout`` (30 s unless configured)
before it raises ``ClientDisconnected``.  Start-up keeps that patience (a
process may start before its server); once the application is built, requests
wait ``anarepo.zeo_wait_timeout`` seconds (2) at most (:func:`bound_request_waits`),
and the outage answers 503 (``views/failures.py``).  The client reconnects by
itself when the server is back.

Object ids:
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


def bound_request_waits(db, seconds: float) -> None:
    """From now on, a storage call waits at most ``seconds`` for an absent server."""
    try:
        from ZEO.ClientStorage import ClientStorage
    except ImportError:  # pragma: no cover - ZEO is a dependency
        return
    storage = db.storage
    runner = getattr(storage, "_server", None)
    if isinstance(storage, ClientStorage) and hasattr(runner, "timeout"):
        runner.timeout = seconds  # ZEO's ClientRunner reads it at every call (ZEO 5, 6)
