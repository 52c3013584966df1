"""Getting uploaded bytes into blobs: streamed, hashed, size-checked, never in memory.

A request body is copied in 1 MiB chunks to a temporary file inside the blob
storage's temporary directory (same file system, so ``consumeFile`` renames
instead of copying) while md5, sha256 and the size are computed.  A retried
request spools again: ``consumeFile`` moved the previous file away.
"""
from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass

from jinja2.filters import do_filesizeformat as filesizeformat  # the pages' units, in messages too

CHUNK_SIZE = 1 << 20


class TooLarge(ValueError):
    pass


@dataclass
class Spooled:
    path: str
    size: int
    md5: str
    sha256: str

    @property
    def md5_base64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.md5)).decode("ascii")

    def discard(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def blob_tmpdir(db) -> str:
    """The blob storage's temporary directory (falls back to the system one)."""
    storage = db.storage
    tmpdir = getattr(storage, "temporaryDirectory", None)
    if tmpdir is not None:
        try:
            return tmpdir()
        except Exception:  # storage without blob support
            pass
    return tempfile.gettempdir()


def spool(stream, tmpdir: str, max_size: int, length: int | None = None) -> Spooled:
    """Copy ``stream`` (up to ``length`` bytes if given) to a temp file, hashing it."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    size = 0
    fd, path = tempfile.mkstemp(dir=tmpdir, prefix="upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            remaining = length
            while remaining is None or remaining > 0:
                want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = stream.read(want)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_size:
                    raise TooLarge(f"the file is larger than the limit of {filesizeformat(max_size)}")
                md5.update(chunk)
                sha256.update(chunk)
                out.write(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return Spooled(path, size, md5.hexdigest(), sha256.hexdigest())


def spool_file(path: str, tmpdir: str, max_size: int) -> Spooled:
    """Spool a local file (imports, CLI) the same way as an upload."""
    with open(path, "rb") as stream:
        return spool(stream, tmpdir, max_size)


def request_tmpdir(request) -> str:
    from .db import get_db

    return blob_tmpdir(get_db(request.registry))
