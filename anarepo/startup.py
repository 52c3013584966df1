"""Starting N processes on one database: initialization and evolve steps run once.

Every process takes a lease in the database before it creates the root or runs
evolve steps (``begin``), and gives it back when its start-up work is done
(``finish``).  Two processes taking it at once write the same object, so one
commit fails with a ``ConflictError`` and that process retries; a process that
finds the lease held waits until it is released, then finds the work done.  A
holder that died frees the lease when it expires (``anarepo.startup.lease``
seconds, renewed before each evolve step).  The lease lives in the database, so
it works across hosts (ZEO, RelStorage) as well as on one.

Start-up also checks that this process reads the blob files the database
refers to (:func:`check_blob_dir`): a ZEO client whose ``blob-dir`` is not the
server's would otherwise fail every upload with a 500 while reads work.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import time

from persistent import Persistent
from ZODB.POSException import ConflictError

log = logging.getLogger(__name__)

LOCK_KEY = "anarepo.startup"
PROBE_KEY = "anarepo.blob_probe"
DEFAULT_LEASE = 120.0


class StartupError(Exception):
    """Start-up can not go on; the message tells the operator what to fix."""


class StartupLease(Persistent):
    """Who runs start-up work now, and until when their lease holds."""

    holder = None
    expires = 0.0


class _Held(Exception):
    pass


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0.05, min(1.0, 0.05 * 2 ** attempt)))


def _lease(zroot) -> StartupLease:
    lease = zroot.get(LOCK_KEY)
    if lease is None:
        lease = zroot[LOCK_KEY] = StartupLease()
    return lease


def acquire(db, seconds: float = DEFAULT_LEASE, wait: float = 3600.0) -> str:
    """Take the start-up lease, waiting while another live process holds it."""
    token = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    deadline = time.monotonic() + wait
    attempt = 0
    told = None
    while True:
        try:
            with db.transaction("anarepo: start-up lease") as conn:
                lease = _lease(conn.root())
                if lease.holder and lease.expires > time.time():
                    raise _Held(lease.holder)
                lease.holder, lease.expires = token, time.time() + seconds
            return token
        except _Held as held:
            if told != held.args[0]:
                told = held.args[0]
                log.info("waiting for %s to finish start-up work (initialization, evolve steps)", told)
            attempt = min(attempt + 1, 4)
        except ConflictError:
            attempt += 1
        if time.monotonic() > deadline:
            raise StartupError(f"waited {wait:.0f} s for another process to finish start-up ({told})")
        _pause(attempt)


def renew(conn, token: str, seconds: float = DEFAULT_LEASE) -> None:
    """Extend the lease inside a transaction of the holder (before each evolve step)."""
    lease = _lease(conn.root())
    if lease.holder == token:
        lease.expires = time.time() + seconds


def release(db, token: str) -> None:
    for attempt in range(20):
        try:
            with db.transaction("anarepo: start-up done") as conn:
                lease = _lease(conn.root())
                if lease.holder == token:
                    lease.holder, lease.expires = None, 0.0
            return
        except ConflictError:
            _pause(attempt)
    log.warning("could not release the start-up lease; it expires by itself")


def lease_seconds(registry) -> float:
    return float(registry.settings.get("anarepo.startup.lease", DEFAULT_LEASE))


def begin(registry, db) -> None:
    """Called before the root is created or read for the first time.  A read-only
    database takes no lease: this process can neither initialize nor evolve it."""
    if db.storage.isReadOnly():
        registry.anarepo_startup = (db, None)
        return
    registry.anarepo_startup = (db, acquire(db, lease_seconds(registry)))


def finish(registry, work) -> None:
    """Run ``work()`` (evolve or mark steps finished) and check blobs, then release."""
    db, token = getattr(registry, "anarepo_startup", (None, None))
    try:
        work()
        check_blob_dir(db or _db(registry))
    finally:
        if token is not None:
            registry.anarepo_startup = (None, None)
            release(db, token)


def current_token(registry) -> str | None:
    return getattr(registry, "anarepo_startup", (None, None))[1]


def _db(registry):
    from .db import get_db

    return get_db(registry)


def _blob_dir(db) -> str:
    storage = db.storage
    value = getattr(storage, "blob_dir", None) or getattr(getattr(storage, "_options", None), "blob_dir", None)
    return value if isinstance(value, str) else "?"


def check_blob_dir(db) -> None:
    """Store a small blob and read it back, then drop it: refuses to start when this
    process can not store or read the database's blob files (a ZEO client whose
    ``shared-blob-dir`` is not the server's ``blob-dir``).  Nothing stays behind
    but an old revision, which the next pack removes."""
    from ZODB.blob import Blob
    from ZODB.interfaces import IBlobStorage

    if not IBlobStorage.providedBy(db.storage) or db.storage.isReadOnly():
        return
    if not getattr(db.storage, "shared_blob_dir", False):  # only a ZEO client sharing the server's directory
        return  # can point elsewhere: FileStorage owns its directory, RelStorage's is a cache
    token = secrets.token_hex(16).encode()
    for attempt in range(20):
        try:
            with db.transaction("anarepo: blob directory probe") as conn:
                conn.root()[PROBE_KEY] = Blob(token)
            with db.transaction() as conn:
                with conn.root()[PROBE_KEY].open("r") as f:
                    data = f.read()
            with db.transaction("anarepo: blob directory probe done") as conn:
                del conn.root()[PROBE_KEY]
            break
        except ConflictError:
            _pause(attempt)
        except Exception as exc:  # noqa: BLE001 - any failure here means the same thing
            raise StartupError(
                f"the blob directory {_blob_dir(db)!r} is not the database's: a blob stored through it can not"
                f" be written or read back ({exc.__class__.__name__}: {exc}). With ZEO and shared_blob_dir the"
                " app's blob_dir must be the very directory of the server's blob-dir (docs/operations.md)"
            ) from exc
    else:
        return  # kept conflicting with other writers: no verdict, start
    if data != token:
        raise StartupError(f"the blob directory {_blob_dir(db)!r} gave back other bytes than were stored")
