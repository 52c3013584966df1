"""Waitress's request-body buffer on a full disk: a 507 answer, not a dropped connection.

Waitress reads a request's body before the application runs and spools a body
above ``inbuf_overflow`` (512 KiB) into a temporary file (in ``TMPDIR``).  When
that file cannot be written (the file system or quota is full, the file size
limit is reached, the directory is read-only), waitress's parser raised
``OSError`` inside its I/O loop, which closes the connection: clients saw a
dropped connection and no status.  :class:`SpoolFailureParser` catches the
failure, frees the partial file, reads the rest of a ``Content-Length`` body
into nothing and answers as the application does for its own storage
(``views/failures.py``): 507 when full, 503 with ``Retry-After`` when not
writable, JSON ``{"error": ...}`` on ``/api``, S3 XML on the staged upload's
form POST, text elsewhere.  A chunked body
is answered at once and the connection closed.

:func:`install` makes it the parser of every waitress channel in the process
(``HTTPChannel.parser_class``, read for each request); the application does it
when it is made, so ``pserve`` and ``anarepo serve`` both get it.
"""
from __future__ import annotations

from io import BytesIO

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import FixedStreamReceiver
from waitress.utilities import Error

from ..views.failures import FULL, NOT_WRITABLE, RETRY_AFTER_UNAVAILABLE, raw_face_error


class StorageRefusal(Error):
    """The answer to a body that could not be buffered, in the face's format."""

    def __init__(self, code: int, reason: str, message: str, path: str, retry_after: str | None = None):
        super().__init__(message)
        self.code, self.reason, self.path, self.retry_after = code, reason, path or "", retry_after

    def to_response(self, ident=None):
        from ..http.retry import S3_PATH
        from ..views.api.upload import s3_error

        if self.path.startswith(S3_PATH):  # the S3-style form POST of staged uploads answers in XML
            codes = {507: "InsufficientStorage", 503: "ServiceUnavailable"}
            response = s3_error(self.code, codes[self.code], self.body)
        else:
            response = raw_face_error(self.path, self.code, self.body, SpoolFailureParser.json_mounts)
        headers = [("Content-Type", response.headers["Content-Type"]), ("Cache-Control", "no-store")]
        if self.retry_after:
            headers.append(("Retry-After", self.retry_after))
        return f"{self.code} {self.reason}", headers, response.body


def refusal_for(exc: OSError, path: str) -> StorageRefusal | None:
    if exc.errno in FULL:
        return StorageRefusal(507, "Insufficient Storage",
                              "the server's temporary storage is full; nothing was stored", path)
    if exc.errno in NOT_WRITABLE:
        return StorageRefusal(503, "Service Unavailable",
                              "the server cannot write its temporary storage; nothing was stored", path,
                              RETRY_AFTER_UNAVAILABLE)
    return None


class Discard:
    """A body buffer that keeps nothing: the rest of a body that cannot be stored."""

    def append(self, data) -> None:
        pass

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False

    def get(self, numbytes=-1, skip=False) -> bytes:
        return b""

    def skip(self, numbytes, allow_prune=False) -> None:
        pass

    def prune(self) -> None:
        pass

    def getfile(self):
        return BytesIO()

    def close(self) -> None:
        pass


class SpoolFailureParser(HTTPRequestParser):
    """waitress's parser, answering a body it cannot buffer with a status."""

    refusal = None
    json_mounts: tuple = ()  # set by install(): the mounts whose faces answer JSON

    def received(self, data):
        try:
            consumed = super().received(data)
        except OSError as exc:
            receiver = self.body_rcv
            refusal = refusal_for(exc, getattr(self, "path", ""))
            if refusal is None or receiver is None:
                raise
            self.refusal = refusal
            spooled, receiver.buf = receiver.buf, Discard()
            spooled.close()  # the partial temporary file: its space comes back
            if not isinstance(receiver, FixedStreamReceiver):  # chunked: its state is mid-chunk
                self.error, self.completed = refusal, True
                return len(data)
            consumed = super().received(data)  # the failed chunk again, into nothing
        if self.completed and self.refusal is not None and self.error is None:
            self.error = self.refusal
        return consumed


def install(json_mounts=()) -> None:
    """``json_mounts``: the mounts of faces answering errors in JSON (the app's faces)."""
    SpoolFailureParser.json_mounts = tuple(json_mounts)
    HTTPChannel.parser_class = SpoolFailureParser
