"""Download counting that never writes in the downloading request.

GET transactions are doomed (``anarepo.db.readonly_tween_factory``), and a
counter bumped by every download would be a conflict hot spot anyway.  So a
download only adds one to an in-process buffer; a short-lived background thread
flushes the buffer every few seconds in a transaction of its own, into
``Distribution.downloads`` (a conflict-free ``BTrees.Length``) and a per-day
history on the package (``package.download_history``: ``"YYYY-MM-DD"`` →
Length) for the web chart.  The buffer is also written when the process ends:
at exit, and on SIGTERM (the normal stop signal, whose default action would
skip exit handlers): :func:`flush_on_sigterm`.  Only a crash (SIGKILL) loses
the counts of the last few seconds — the price of never slowing a download down.
"""
from __future__ import annotations

import atexit
import logging
import signal
import threading
import time
import weakref
from collections import Counter

from BTrees.Length import Length
from ZODB.POSException import ConflictError

from ..clock import utcnow
from ..names import package_key

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0


class DownloadCounter:
    def __init__(self, db, interval: float = DEFAULT_INTERVAL):
        self.db = db
        self.interval = interval
        self.lock = threading.Lock()
        self.pending: Counter = Counter()
        self.thread: threading.Thread | None = None
        self.closed = False

    def count(self, dist) -> None:
        """Remember one download of ``dist`` (called during the request)."""
        package = dist.package
        key = (package.owner.login, package_key(package.name), dist.version, dist.basename,
               utcnow().strftime("%Y-%m-%d"))
        with self.lock:
            self.pending[key] += 1
            if self.interval > 0 and (self.thread is None or not self.thread.is_alive()) and not self.closed:
                self.thread = threading.Thread(target=self._run, name="anarepo-downloads", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()
            with self.lock:
                if not self.pending or self.closed:
                    self.thread = None
                    return

    def flush(self) -> int:
        """Write the buffered counts in one transaction; return how many were written."""
        with self.lock:
            batch, self.pending = self.pending, Counter()
        if not batch:
            return 0
        if getattr(self.db, "_mvcc_storage", None) is None:  # the database was closed
            return 0
        from ..db import ROOT_KEY, changes_no_document

        for attempt in range(3):
            try:
                with self.db.transaction("anarepo: download counts") as conn:
                    changes_no_document(conn.transaction_manager.get())  # no index document shows them
                    root = conn.root()[ROOT_KEY]
                    for (owner, pkey, version, basename, day), n in batch.items():
                        _apply(root, owner, pkey, version, basename, day, n)
                return sum(batch.values())
            except ConflictError:
                continue
            except Exception:
                log.exception("download counts could not be written")
                break
        with self.lock:  # keep them for the next flush
            self.pending.update(batch)
        return 0

    def close(self) -> None:
        self.flush()
        self.closed = True


def _apply(root, owner_login, pkey, version, basename, day, n) -> None:
    owner = root.owners.get(owner_login)
    package = owner.packages.get(pkey) if owner is not None else None
    release = package.releases.get(version) if package is not None else None
    dist = release.files.get(basename) if release is not None else None
    if dist is None:
        return
    dist.downloads.change(n)
    history = package.download_history
    counter = history.get(day)
    if counter is None:
        counter = history[day] = Length()
    counter.change(n)


_LIVE: "weakref.WeakSet[DownloadCounter]" = weakref.WeakSet()
_HANDLER_INSTALLED = False


def flush_all() -> int:
    return sum(counter.flush() for counter in list(_LIVE))


def _on_sigterm(signum, frame):
    flushed = flush_all()
    log.info("SIGTERM: wrote %d buffered download count(s); stopping", flushed)
    raise SystemExit(128 + signum)  # exit handlers run (database closed cleanly)


def flush_on_sigterm() -> bool:
    """Install (once per process, from the main thread) a SIGTERM handler that
    writes every buffered count and exits through the normal exit path.  A
    handler someone else installed first is left alone."""
    global _HANDLER_INSTALLED
    if _HANDLER_INSTALLED:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return False
    signal.signal(signal.SIGTERM, _on_sigterm)
    _HANDLER_INSTALLED = True
    return True


def download_counter(registry) -> DownloadCounter:
    counter = getattr(registry, "download_counter", None)
    if counter is None:
        from ..db import get_db

        interval = float(registry.settings.get("anarepo.download_flush_seconds", DEFAULT_INTERVAL))
        counter = registry.download_counter = DownloadCounter(get_db(registry), interval)
        _LIVE.add(counter)
        ref = weakref.ref(counter)
        atexit.register(lambda: ref() is not None and ref().flush())
    return counter


def committed_file(request, dist) -> str:
    """The path of a distribution's committed bytes; a proxied file not fetched
    yet is fetched, verified and stored first (``anarepo.sources.proxy``)."""
    if dist.upstream is not None:
        return request.registry.anarepo_fetch_upstream(request, dist)
    return dist.blob.committed()


def count_download(request, dist) -> None:
    """Count one download of ``dist``; any face may call it."""
    download_counter(request.registry).count(dist)


def daily_downloads(package) -> dict[str, int]:
    return {day: counter() for day, counter in package.download_history.items()}
