"""Public index documents published as files that nginx sends without asking the app.

Why: behind nginx, every ``repodata.json`` or simple page that reaches the app costs
a Python request (waitress, the replay lookup, a ZEO round trip for the revision):
0.4-0.6x of nginx static for big documents, 0.02x for small pages (bench/deploy.py).
Only nginx answering alone gets near its own ceiling, and it may do so only while
the answer is still the one the app would give: read-your-writes, 0 stale reads.

How the files stay current (``anarepo.publish.dir``, written by ``gen-config``):

* **Generations.** Files live in ``DIR/g-<tid>/<scheme>/<host><path>@<accept>.<ext>``;
  ``DIR/current`` is a symlink to the generation nginx reads (``try_files``).
  ``<tid>`` is the database revision every file in it was rendered at.
* **The documents revision.**  Only some commits change what an index document
  shows: a download-count flush or a login's throttle counters do not.  Every commit
  of an anarepo process (:class:`DocumentsConnection`, installed whether publishing is
  on or not) also changes one conflict-free counter in the database root
  (:data:`DOCUMENTS_KEY`), unless its transaction declared that it changes no document
  (:func:`anarepo.db.changes_no_document`).  The counter's serial — the id of the last
  commit that may have changed a document — is the *documents revision*; generations
  are named by it.
* **Every such commit ends the generation** before the transaction returns (so before
  a write is acknowledged): :class:`PublishingConnection` swaps ``current`` to a new,
  empty generation after the storage finished the commit.  Every anarepo process,
  command-line ones included, opens the database with it.  A declared commit ends
  nothing.
* **Publishing checks the documents revision under a lock.**  The replay middleware
  hands over each public answer it stores (anonymous ``GET``, ``200``,
  ``Cache-Control: public``, no query) with the revision it read before the view ran.
  Under an exclusive ``flock`` shared by all processes the documents revision is read
  through the storage (:mod:`anarepo.revision` first makes the process current, then
  a fresh connection reads the counter): only if no document-changing commit came
  after the view's revision is the file written, into the generation of the
  documents revision.  Such a commit either finished before that read (then it is
  seen and nothing is written) or swaps ``current`` after the write (its swap waits
  for the lock): no file older than an acknowledged commit is ever served.
* **A safety net** for commits of anarepo processes that do not publish: each app
  process reads the documents revision once a second and ends a generation named by
  another one.  (Every process writing the database must be an anarepo process: a
  foreign writer does not move the counter.)
* A file removed between nginx's existence check and its open gives a 404 that
  nginx hands to the app (``error_page 404 = @anarepo``), never to the client.

What nginx can key on without Python decides what is published: the path, scheme
and host (``$scheme/$host$uri``), and the ``Accept`` header through a map of exact
values (:data:`ACCEPT_VARIANTS`; nginx's map is generated from it).  Requests with
credentials of any kind, a query string or another method never read files
(``map`` in the generated config).  Content types map to file extensions nginx's
``types`` turn back (:data:`EXTENSIONS`).  Bodies are stored unencoded plus a
``.gz`` twin that ``gzip_static`` sends to clients accepting gzip.
"""
from __future__ import annotations

import contextlib
import fcntl
import gzip
import logging
import os
import queue
import re
import secrets
import shutil
import threading
import time

from ZODB.Connection import Connection

log = logging.getLogger(__name__)

#: exact ``Accept`` values (lower case, stripped) -> the variant tag in file names.
#: Anything else is answered by the app.  pip's and uv's headers ask for PEP 691 JSON.
ACCEPT_VARIANTS = {
    "": "none",
    "*/*": "all",
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01": "pip",
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01": "uv",
}
#: Content-Type of an answer -> file extension (nginx's ``types`` in the generated config).
EXTENSIONS = {
    "application/json": "json",
    "application/zstd": "zst",
    "text/html; charset=utf-8": "html",
    "application/vnd.pypi.simple.v1+html; charset=utf-8": "pypihtml",
    "application/vnd.pypi.simple.v1+json": "pypijson",
}
#: extension -> the Content-Type nginx sends (``charset utf-8`` adds the charset to html ones)
NGINX_TYPES = {"json": "application/json", "zst": "application/zstd", "html": "text/html",
               "pypihtml": "application/vnd.pypi.simple.v1+html", "pypijson": "application/vnd.pypi.simple.v1+json"}
#: headers nginx adds to a published file (it can not store per-file headers)
CACHE_CONTROL = "public, no-cache"
VARY = "Accept, Accept-Encoding, Authorization, Cookie"
MARKER = "X-Anarepo-Document"

_SAFE_PATH = re.compile(r"^(/[A-Za-z0-9_~+=,-][A-Za-z0-9_.~+=,-]*)*/?$")
_SAFE_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
UNKNOWN = "unknown"
GZIP_MIN = 1024


def _tid_name(tid) -> str:
    return tid.hex() if isinstance(tid, (bytes, bytearray)) else str(tid)


class Generations:
    """The ``current`` symlink and the generation directories under ``root``."""

    def __init__(self, root: str):
        self.root = root
        self.current = os.path.join(root, "current")
        self.lock_path = os.path.join(root, "lock")
        os.makedirs(root, exist_ok=True)

    @contextlib.contextmanager
    def locked(self):
        """Exclusive across processes (flock on a fresh descriptor: across threads too)."""
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def current_name(self) -> str | None:
        try:
            return os.readlink(self.current)
        except OSError:
            return None

    def current_tid(self) -> str | None:
        name = self.current_name()
        return name[2:].rsplit("-", 1)[0] if name else None

    def swap(self, tid_name: str = UNKNOWN) -> str:
        """Point ``current`` at a new empty generation (call with the lock held)."""
        name = f"g-{tid_name}-{time.time_ns():020d}"
        os.mkdir(os.path.join(self.root, name))
        link = os.path.join(self.root, f".current-{secrets.token_hex(4)}")
        os.symlink(name, link)
        os.replace(link, self.current)  # atomic: nginx sees the old or the new one
        threading.Thread(target=self._remove_old, args=(name,), daemon=True).start()
        return name

    def _remove_old(self, newest: str) -> None:
        """Generations older than ``newest`` (a later swap may have made a newer one current)."""
        stamp = newest.rsplit("-", 1)[1]
        for name in os.listdir(self.root):
            if name.startswith("g-") and name.rsplit("-", 1)[1] < stamp:
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)

    def invalidate(self) -> None:
        """After a commit: nothing published before it is served any more."""
        try:
            with self.locked():
                self.swap()
        except OSError:
            log.exception("could not end the published generation in %s; removing it", self.root)
            try:
                os.unlink(self.current)  # nginx then asks the app for everything
            except FileNotFoundError:
                pass


#: key of the documents counter in the ZODB root mapping (see the module docstring)
DOCUMENTS_KEY = "anarepo.documents"
#: transaction data key: this connection's commit moved the documents counter
_MOVED = object()


class DocumentsConnection(Connection):
    """A ZODB connection whose commits move the documents counter, unless the
    transaction declared that it changes no document (:func:`anarepo.db.changes_no_document`).

    ``commit`` runs only for connections that wrote something (or hold savepoints).
    """

    def commit(self, transaction):
        from ..db import changes_no_document_declared

        if not changes_no_document_declared(transaction):
            counter = self.root().get(DOCUMENTS_KEY)
            if counter is not None:
                counter.change(1)  # a Length: concurrent commits merge, never conflict
            transaction.set_data(_MOVED, True)
        super().commit(transaction)


def moved_documents(transaction) -> bool:
    try:
        return bool(transaction.data(_MOVED))
    except KeyError:
        return False


class PublishingConnection(DocumentsConnection):
    """A ZODB connection that ends the published generation after each of its commits
    that may change a document.

    ``tpc_finish`` runs only for connections that wrote something, after the storage
    made the transaction durable and before ``commit()`` returns to the caller.
    """

    def tpc_finish(self, transaction):
        super().tpc_finish(transaction)
        generations = getattr(self._db, "anarepo_published", None)
        if generations is not None and moved_documents(transaction):
            generations.invalidate()


def install(db, settings) -> Generations | None:
    """Make every commit through ``db`` move the documents counter, and (when publishing
    is on) end the published generation when it did."""
    root = (settings.get("anarepo.publish.dir") or "").strip()
    db.klass = PublishingConnection if root else DocumentsConnection
    db.pool.clear()  # the connection ZODB opened to create its root is of the old class
    if not root:
        return None
    generations = Generations(root)
    generations.db = db
    db.anarepo_published = generations
    return generations


def ensure_documents_counter(db) -> None:
    """Create the counter (start-up, one process at a time: databases from before it)."""
    from BTrees.Length import Length

    if db.storage.isReadOnly():  # a read-only database starts, writing nothing
        return
    with db.transaction("anarepo: documents counter") as conn:
        if DOCUMENTS_KEY not in conn.root():
            conn.root()[DOCUMENTS_KEY] = Length()


def documents_revision(db, revision):
    """The id of the last commit that may have changed a document, read through the
    storage: ``revision()`` makes this process current first (ZEO round trip, RelStorage
    poll), then a fresh connection reads the counter.  None when the storage can not be
    asked; the database revision itself for a database without the counter."""
    import transaction

    tid = revision()
    if tid is None or getattr(db, "_mvcc_storage", None) is None:  # unknown, or the database was closed
        return None
    manager = transaction.TransactionManager(explicit=True)  # not the thread's: a request's may be open
    conn = db.open(transaction_manager=manager)
    try:
        manager.begin()  # a snapshot at least as new as ``tid``
        counter = conn.root().get(DOCUMENTS_KEY)
        if counter is None:
            return tid
        counter._p_activate()
        return counter._p_serial
    finally:
        manager.abort()
        conn.close()


def document_key(environ, headers) -> str | None:
    """Where an answer goes under a generation, or None when nginx could not find it."""
    if environ.get("QUERY_STRING"):
        return None
    variant = ACCEPT_VARIANTS.get(environ.get("HTTP_ACCEPT", "").strip().lower())
    if variant is None:
        return None
    names = {k.lower(): v for k, v in headers}
    from ..security.headers import CSP

    if names.get("content-security-policy", CSP) != CSP or names.get("referrer-policy", "same-origin") != "same-origin":
        return None  # nginx adds the site's usual security headers, nothing else
    ext = EXTENSIONS.get(names.get("content-type", "").lower().replace(";charset", "; charset"))
    if ext is None:
        return None
    path = environ.get("anarepo.original_path") or environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    host = environ.get("HTTP_HOST", "").lower().rsplit(":", 1)[0] if not environ.get("HTTP_HOST", "").startswith("[") else ""
    scheme = environ.get("wsgi.url_scheme", "")
    if not _SAFE_PATH.match(path) or not _SAFE_HOST.match(host) or scheme not in ("http", "https"):
        return None
    return f"{scheme}/{host}{path}@{variant}.{ext}"


def _decoded(body: bytes, encoding: str) -> bytes | None:
    if not encoding or encoding == "identity":
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    return None


class Publisher:
    """Writes stored public answers into the current generation (see the module docstring)."""

    def __init__(self, generations: Generations, revision, watch_interval: float = 1.0, gzip_min: int = GZIP_MIN):
        self.generations = generations
        self.gzip_min = gzip_min
        self.revision = revision
        self.jobs: queue.Queue = queue.Queue(maxsize=64)
        threading.Thread(target=self._gzip_worker, daemon=True, name="anarepo-publish-gzip").start()
        if watch_interval:
            threading.Thread(target=self._watch, args=(watch_interval,), daemon=True,
                             name="anarepo-publish-watch").start()

    def publish(self, environ, status: str, headers, body: bytes, tid) -> str | None:
        """Write ``body`` if its revision ``tid`` is still the database's; return the file's path."""
        try:
            return self._publish(environ, status, headers, body, tid)
        except OSError:  # a full disk, a directory another user created: the app keeps answering
            log.warning("could not publish %s", environ.get("PATH_INFO"), exc_info=True)
            return None

    def _publish(self, environ, status, headers, body, tid):
        if tid is None or not status.startswith("200"):
            return None
        key = document_key(environ, headers)
        if key is None:
            return None
        encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "").strip().lower()
        try:
            plain = _decoded(body, encoding)
        except Exception:  # noqa: BLE001 - not what it says it is: do not publish
            return None
        if plain is None:
            return None
        modified = next((v for k, v in headers if k.lower() == "last-modified"), None)
        with self.generations.locked():
            documents = documents_revision(self.generations.db, self.revision)
            if documents is None or documents > tid:
                return None  # a commit that may change documents since the view read the database
            name = self.generations.current_name()
            if name is None or self.generations.current_tid() != _tid_name(documents):
                name = self.generations.swap(_tid_name(documents))
            path = os.path.join(self.generations.root, name, key)
            _write(path, plain, modified)
            if encoding == "gzip":
                _write(path + ".gz", body, modified)
        if encoding != "gzip" and len(plain) >= self.gzip_min:
            try:
                self.jobs.put_nowait((path, plain, modified))
            except queue.Full:
                pass
        return path

    def _gzip_worker(self) -> None:
        """The ``.gz`` twin, off the request thread, into the same generation directory
        (same revision); if that generation has ended meanwhile, the write just fails."""
        while True:
            path, plain, modified = self.jobs.get()
            try:
                if os.path.exists(path):
                    _write(path + ".gz", gzip.compress(plain, compresslevel=6, mtime=0), modified, makedirs=False)
            except OSError:
                pass

    def _watch(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("published documents check failed")

    def check(self) -> None:
        """End the generation if the documents moved on without telling us (a commit by
        a process that does not publish)."""
        if self.generations.current_name() is None:
            return
        with self.generations.locked():
            documents = documents_revision(self.generations.db, self.revision)
            if documents is not None and self.generations.current_tid() != _tid_name(documents):
                self.generations.swap(_tid_name(documents))


def _write(path: str, data: bytes, modified: str | None, makedirs: bool = True) -> None:
    if makedirs:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = f"{path}.{secrets.token_hex(4)}.part"
    with open(temp, "wb") as out:
        out.write(data)
    if modified:  # nginx's Last-Modified is the file's time: make it the app's
        from email.utils import parsedate_to_datetime

        try:
            stamp = parsedate_to_datetime(modified).timestamp()
            os.utime(temp, (stamp, stamp))
        except (TypeError, ValueError):
            pass
    os.replace(temp, path)
