"""The database: the root factory, start-up bootstrap and script access.

The root factory only looks the root up.  Creating it (and running evolve
steps) happens once at start-up through the DB's own transaction, never through
the global transaction manager, which commits nothing for the explicit
per-request manager pyramid_tm uses.
"""
from __future__ import annotations

import atexit
import os
import weakref
from contextlib import contextmanager

from pyramid_zodbconn import get_connection

ROOT_KEY = "anarepo"


def prepare_file_storage_dirs(uri: str) -> None:
    """Create the directories a ``file://`` URI points into (``var/`` on first run)."""
    from urllib.parse import parse_qs, urlsplit

    if not uri or not uri.startswith("file://"):
        return
    parts = urlsplit(uri)
    os.makedirs(os.path.dirname(parts.path) or ".", exist_ok=True)
    for blob_dir in parse_qs(parts.query).get("blobstorage_dir", []):
        os.makedirs(blob_dir, exist_ok=True)


def root_factory(request):
    return get_connection(request).root()[ROOT_KEY]


def get_db(registry):
    return registry._zodb_databases[""]


def ensure_root(db) -> tuple[str, bool]:
    """Create the Root on a fresh database; return (its secret, whether it is new)."""
    from .resources.root import Root

    with db.transaction("anarepo: bootstrap") as conn:
        zroot = conn.root()
        created = ROOT_KEY not in zroot
        if created:
            zroot[ROOT_KEY] = Root()
        return zroot[ROOT_KEY].secret, created


@contextmanager
def open_root(registry, note: str | None = None):
    """A root in its own committed transaction, for scripts and start-up work."""
    db = get_db(registry)
    with db.transaction(note) as conn:
        yield conn.root()[ROOT_KEY]


def close_at_exit(db) -> None:
    """FileStorage writes its index on close; close it when the process ends
    (unless it was closed before; a weak reference keeps closed DBs collectable)."""
    ref = weakref.ref(db)

    def close():
        db = ref()
        if db is not None and getattr(db, "_mvcc_storage", None) is not None:
            db.close()

    atexit.register(close)


def readonly_tween_factory(handler, registry):
    """Doom GET/HEAD transactions so a stray write in a read never commits."""

    def readonly_tween(request):
        if request.method in ("GET", "HEAD") and not request.environ.get("anarepo.allow_write"):
            request.tm.doom()
        return handler(request)

    return readonly_tween


def includeme(config):
    config.add_tween("anarepo.db.readonly_tween_factory", under="pyramid_tm.tm_tween_factory")
