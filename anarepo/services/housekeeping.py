"""Garbage collection and blob verification: what crashes and refusals leave behind.

* partial upload files (``upload-*.part``) and uncommitted blob files (``BUC*``)
  in the blob temporary directory, and temporary files (``*.tmp``) in blob
  directories: a process killed mid-upload or mid-commit leaves them;
* expired stages (announced uploads never committed), and failed-login counters
  a day old (they no longer count);
* blob files of object revisions no longer in the database: refused uploads and
  dropped stages once packed (:func:`collect` packs), and files a commit moved
  into place before the process died, whose transaction never reached the
  database (*orphans*).

Nothing a committed record references is ever touched: a blob file is removed
only when the storage has no revision (oid, tid) for it.  While other processes
may be writing (ZEO with a shared blob directory), only files older than
``grace`` seconds are considered.  :func:`verify_blobs` reads every file of
every package and compares it with its recorded size and sha256.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field

from ZODB.POSException import POSKeyError

from ..security.throttle import forget_old
from ..storage import CHUNK_SIZE

log = logging.getLogger(__name__)

TEMP_PREFIXES = ("upload-", "BUC")
DEFAULT_GRACE = 3600.0  # seconds a file of a possibly running writer is left alone


@dataclass
class Report:
    temp_files: int = 0
    orphan_blobs: int = 0
    expired_stages: int = 0
    forgotten_logins: int = 0
    freed_bytes: int = 0
    packed: bool = False
    removed: list = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"removed {self.temp_files} partial upload/temporary file(s)",
            f"dropped {self.expired_stages} expired stage(s)",
            f"forgot {self.forgotten_logins} day-old failed-login counter(s)",
            f"removed {self.orphan_blobs} orphan blob file(s)",
            f"freed {self.freed_bytes} bytes" + (" (after packing the database)" if self.packed else ""),
        ]


def _fshelper(storage):
    helper = getattr(storage, "fshelper", None)
    return helper if helper is not None and hasattr(helper, "base_dir") else None


def exclusive(db) -> bool:
    """True when this process alone writes the database (an embedded FileStorage)."""
    from ZODB.FileStorage import FileStorage

    return isinstance(db.storage, FileStorage)


def _remove(path: str, report: Report) -> None:
    try:
        size = os.stat(path).st_size
        os.unlink(path)
    except FileNotFoundError:
        return
    report.freed_bytes += size
    report.removed.append(path)


def _old_enough(path: str, cutoff: float) -> bool:
    try:
        return os.stat(path).st_mtime <= cutoff
    except FileNotFoundError:
        return False


def remove_temp_files(db, grace: float, report: Report) -> None:
    helper = _fshelper(db.storage)
    if helper is None:
        return
    cutoff = time.time() - grace
    tmp = helper.temp_dir
    for name in os.listdir(tmp) if os.path.isdir(tmp) else ():
        path = os.path.join(tmp, name)
        if name.startswith(TEMP_PREFIXES) and os.path.isfile(path) and _old_enough(path, cutoff):
            _remove(path, report)
            report.temp_files += 1


def _blob_files(helper):
    from ZODB.blob import BLOB_SUFFIX

    for oid, path in helper.listOIDs():
        for name in os.listdir(path):
            full = os.path.join(path, name)
            if name.endswith(BLOB_SUFFIX) or name.endswith(".tmp"):
                yield oid, full


def remove_orphans(db, grace: float, report: Report) -> None:
    helper = _fshelper(db.storage)
    if helper is None or not hasattr(helper.layout, "path_to_oid"):
        # blobs live in the database or nowhere; a blob *cache* (RelStorage, ZEO without
        # a shared directory) holds copies whose file names do not map back to oids
        return
    cutoff = time.time() - grace
    storage = db.storage
    for oid, path in _blob_files(helper):
        if not _old_enough(path, cutoff):
            continue
        if path.endswith(".tmp"):
            _remove(path, report)
            report.temp_files += 1
            continue
        _oid, serial = helper.splitBlobFilename(path)
        try:
            storage.loadSerial(oid, serial)
        except POSKeyError:
            _remove(path, report)
            report.orphan_blobs += 1
            log.info("removed orphan blob file %s", path)


def expire_stages(db, report: Report) -> None:
    from . import staging
    from ..db import ROOT_KEY

    while True:
        with db.transaction("anarepo gc: expired stages") as conn:
            dropped = staging.expire(conn.root()[ROOT_KEY], limit=500)
        report.expired_stages += dropped
        if dropped < 500:
            return


def clean_startup(db) -> Report:
    """The local process's own leftovers, at start-up: temporary files (all of
    them on an embedded FileStorage, which no other process can be using)."""
    report = Report()
    remove_temp_files(db, 0.0 if exclusive(db) else DEFAULT_GRACE, report)
    if report.temp_files:
        log.info("start-up: removed %d leftover temporary file(s), %d bytes", report.temp_files, report.freed_bytes)
    return report


def collect(db, grace: float | None = None, pack: bool = True, pack_days: float = 0.0,
            report: Report | None = None) -> Report:
    """Everything: temporary files, expired stages, (pack), orphan blob files;
    ``report`` may hold what start-up removed already."""
    if grace is None:
        grace = 0.0 if exclusive(db) else DEFAULT_GRACE
    report = report or Report()
    remove_temp_files(db, grace, report)
    expire_stages(db, report)
    report.forgotten_logins = forget_old(db)
    if pack:
        db.pack(time.time() - pack_days * 86400)
        report.packed = True
    remove_orphans(db, grace, report)
    return report


# -- verification ------------------------------------------------------------------
@dataclass
class BlobProblem:
    path: str  # owner/package/version/basename
    problem: str


def _digest(path: str) -> tuple[int, str]:
    sha256, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            sha256.update(chunk)
            size += len(chunk)
    return size, sha256.hexdigest()


def verify_blobs(db, progress=None) -> tuple[int, list[BlobProblem]]:
    """Read every distribution's blob; return (files checked, problems)."""
    from ..db import ROOT_KEY

    problems, count = [], 0
    conn = db.open()
    try:
        root = conn.root()[ROOT_KEY]
        for owner in root.owners.values():
            for package in owner.packages.values():
                for dist in package.distributions():
                    if dist.upstream is not None:
                        continue  # proxied and not fetched yet: no bytes to verify (anarepo.sources)
                    count += 1
                    name = f"{owner.login}/{package.name}/{dist.version}/{dist.basename}"
                    try:
                        size, sha256 = _digest(dist.blob.committed())
                    except (POSKeyError, OSError) as exc:
                        problems.append(BlobProblem(name, f"blob missing ({exc.__class__.__name__})"))
                        continue
                    if size != dist.size:
                        problems.append(BlobProblem(name, f"size {size}, recorded {dist.size}"))
                    elif sha256 != dist.sha256:
                        problems.append(BlobProblem(name, f"sha256 {sha256}, recorded {dist.sha256}"))
                    if progress is not None:
                        progress(1)
    finally:
        conn.close()
    return count, problems
