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


#: ``file://`` URI parameters naming the blob directory (``blobstorage_dir`` is
#: zodburi's; it is read as the same native directory, same on-disk layout).
BLOB_DIR_PARAMS = ("blob_dir", "blobstorage_dir")


def _file_uri_parts(uri: str):
    from urllib.parse import parse_qsl

    path, _, query = uri[len("file://"):].partition("?")
    return os.path.normpath(path), dict(parse_qsl(query))


def prepare_file_storage_dirs(uri: str) -> None:
    """Create the directories a ``file://`` URI points into (``var/`` on first run)."""
    if not uri or not uri.startswith("file://"):
        return
    path, params = _file_uri_parts(uri)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    for key in BLOB_DIR_PARAMS:
        if params.get(key):
            os.makedirs(params[key], exist_ok=True)


def resolve_uri(uri: str):
    """zodburi's resolver, except that ``file://`` with a blob directory opens a
    FileStorage with *native* blob support.

    zodburi wraps FileStorage in ZODB's legacy ``BlobStorage`` proxy, whose
    ``tpc_abort`` empties the list of just-stored blobs after the commit lock
    is released: an aborted (conflicting) transaction deletes the blob files of
    another one that commits at the same time, and acknowledged uploads are lost
    (``POSKeyError: No blob file``).  FileStorage's own blob support does the
    same bookkeeping under its commit lock.  See docs/operations.md.
    """
    import zodburi

    if not uri.startswith("file://"):
        return zodburi.resolve_uri(uri)
    path, params = _file_uri_parts(uri)
    blob_dir = next((params.pop(key) for key in BLOB_DIR_PARAMS if params.get(key)), None)
    if blob_dir is None:
        return zodburi.resolve_uri(uri)
    for key in BLOB_DIR_PARAMS + ("blobstorage_layout",):  # the directory keeps its layout
        params.pop(key, None)
    storage_kw = {k: int(params.pop(k)) for k in ("create", "read_only") if k in params}
    from urllib.parse import urlencode

    _, dbkw = zodburi.resolve_uri("memory://?" + urlencode(params))

    def factory():
        from ZODB.FileStorage import FileStorage

        return FileStorage(path, blob_dir=blob_dir, **storage_kw)

    return factory, dbkw


def db_from_uri(uri, dbname, dbmap, attempts: int = 5):
    """pyramid_zodbconn's ``db_from_uri`` with :func:`resolve_uri`, opened again
    when it loses the race to create the root: processes starting together on an
    empty ZEO or RelStorage database each try to store object 0 in ``DB()``, and
    all but one get a ConflictError (then the root exists, and opening succeeds)."""
    import time

    from ZODB.POSException import ConflictError

    from .resources.moved import DB  # reads classes that moved at their new paths

    for attempt in range(attempts):
        storage_factory, dbkw = resolve_uri(uri)
        dbkw["database_name"] = dbname
        storage = storage_factory()
        try:
            return DB(storage, databases=dbmap, **dbkw)
        except ConflictError:
            storage.close()
            dbmap.pop(dbname, None)
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def include_zodb(config) -> None:
    """pyramid_zodbconn with :func:`db_from_uri` (``config.include(include_zodb)``)."""
    import pyramid_zodbconn

    pyramid_zodbconn.includeme(config, db_from_uri=db_from_uri)


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


#: transaction data key of :func:`changes_no_document`
_NO_DOCUMENT_CHANGE = object()


def changes_no_document(txn) -> None:
    """Declare that transaction ``txn`` changes nothing a public index document shows
    (download counts, login throttles): its commit does not end the published documents
    (anarepo/deploy/published.py).  Only for transactions that write nothing else."""
    txn.set_data(_NO_DOCUMENT_CHANGE, True)


def changes_no_document_declared(txn) -> bool:
    try:
        return bool(txn.data(_NO_DOCUMENT_CHANGE))
    except KeyError:
        return False


def in_own_transaction(db, change, *, documents: bool = True):
    """Apply ``change(root)`` in a transaction of its own (retried on conflicts) and
    return what it returns; an exception out of ``change`` aborts and propagates.

    For what must be kept although the request's transaction is aborted (a refused
    request: failed-login counters, a reused authorization code's revocations) or
    may not write (GET requests are doomed: a sign-in callback, a first signing key).
    ``documents=False``: ``change`` alters nothing an index document shows
    (:func:`changes_no_document`)."""
    import transaction
    from ZODB.POSException import ConflictError

    for _ in range(5):
        manager = transaction.TransactionManager(explicit=True)
        conn = db.open(transaction_manager=manager)
        try:
            txn = manager.begin()
            if not documents:
                changes_no_document(txn)
            result = change(conn.root()[ROOT_KEY])
            manager.commit()
            return result
        except ConflictError:
            manager.abort()
        except BaseException:
            manager.abort()
            raise
        finally:
            conn.close()
    raise ConflictError("gave up after 5 conflicting attempts")


def close_db(db) -> None:
    """Close ``db``, leaving alone the connections whose opening failed.

    While a ZEO server is away, a request's connection can fail in its first
    sync, half-opened: out of the pool, and its explicit transaction manager
    without a transaction.  Nobody uses it again (the pool holds it weakly),
    but ``DB.close`` would abort that manager and stop on ``NoTransaction``.
    """
    from transaction.interfaces import NoTransaction

    for conn in list(db.pool.all):
        manager = conn.transaction_manager
        if conn in db.pool.available or manager is None:
            continue
        try:
            manager.get()
        except NoTransaction:
            conn.transaction_manager = None  # nothing to abort
    db.close()


def close_at_exit(db) -> None:
    """FileStorage writes its index on close; close it when the process ends
    (unless it was closed before; a weak reference keeps closed DBs collectable)."""
    ref = weakref.ref(db)

    def close():
        db = ref()
        if db is not None and getattr(db, "_mvcc_storage", None) is not None:
            close_db(db)

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
