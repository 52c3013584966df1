"""A ZEO client that survives a restarted server (``kill -9`` included), and
answers promptly while it is away.

Waiting: while the server is unreachable, every storage call waits for the
connection up to ClientStorage's ``wait_timeout`` (30 s unless configured)
before it raises ``ClientDisconnected``.  Start-up keeps that patience (a
process may start before its server); once the application is built, requests
wait ``anarepo.zeo_wait_timeout`` seconds (2) at most, and not at all once the
server has been away that long (:func:`bound_request_waits`); the outage
answers 503 (``views/failures.py``).  The client reconnects by itself when the
server is back, and requests wait again for a server that goes away again.

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

import threading


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
    """From now on, a storage call waits at most ``seconds`` for an absent server,
    and none at all once the server has been away that long (until it is back):
    an outage answers at once instead of holding every thread for ``seconds``."""
    try:
        from ZEO.ClientStorage import ClientStorage
    except ImportError:  # pragma: no cover - ZEO is a dependency
        return
    storage = db.storage
    runner = getattr(storage, "_server", None)
    if not isinstance(storage, ClientStorage) or not hasattr(runner, "timeout"):
        return
    runner.timeout = seconds  # ZEO's ClientRunner reads it at every call (ZEO 5, 6)
    connected, disconnected = storage.notify_connected, storage.notify_disconnected

    def notify_connected(conn, info):
        runner.timeout = seconds
        return connected(conn, info)

    def notify_disconnected():
        def still_away():
            if not storage.is_connected():
                runner.timeout = 0  # ZEO then raises ClientDisconnected without waiting

        timer = threading.Timer(seconds, still_away)
        timer.daemon = True
        timer.start()
        return disconnected()

    storage.notify_connected = notify_connected
    storage.notify_disconnected = notify_disconnected
