"""Failures that are nobody's input error: contention, full or read-only storage,
an unreachable database, and bugs.  Each answers a clear status in the face's
error format (JSON on ``/api``, S3 XML on the upload form POST, text for conda
and PyPI tools, a page for people), never waitress's default 500 page.

* a conflict that outlived every retry (``TransientError``: ``ConflictError``,
  ZEO's ``ClientDisconnected``) → 503 with ``Retry-After``;
* ``OSError`` ENOSPC/EDQUOT → 507 Insufficient Storage; EROFS/EACCES/EPERM → 503
  (the server cannot write its storage: an operator must act);
* the storage refusing writes or unreachable (``ReadOnlyError``,
  ``StorageSystemError``, ``ClientStorageError``) → 503 with ``Retry-After``;
* anything else → 500 with the face's body, logged with its traceback.

These views run after pyramid_tm aborted the transaction, and pyramid_retry
retries a retryable error before any of them is final.
"""
from __future__ import annotations

import errno
import logging

from pyramid.view import exception_view_config
from pyramid_retry import is_last_attempt
from transaction.interfaces import TransientError
from ZODB.POSException import ReadOnlyError, StorageSystemError

from ..http.middleware import redact
from ..plugins.faces import faces
from ..http.retry import S3_PATH, attempt_no_more
from .helpers import face_error, json_error, text_error

log = logging.getLogger(__name__)

RETRY_AFTER_BUSY = "2"
RETRY_AFTER_UNAVAILABLE = "30"
FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def failure_response(request, status: int, message: str, retry_after: str | None = None):
    """The face's error; the S3-style form POST of staged uploads answers in XML."""
    raw_path = request.environ.get("PATH_INFO", "")  # never decoded: it may not be UTF-8
    route = getattr(request, "matched_route", None)
    if raw_path.startswith(S3_PATH) or (route is not None and route.name == "api.s3upload"):
        from .api.upload import s3_error

        codes = {503: "ServiceUnavailable", 507: "InsufficientStorage", 500: "InternalError"}
        response = s3_error(status, codes.get(status, "InvalidRequest"), message)
    else:
        try:  # a failure page asks nothing of the database (it may be what failed)
            response = face_error(request, status, message, identity=None)
        except UnicodeDecodeError:  # the face is read from the decoded path
            response = raw_face_error(raw_path, status, message, faces(request).json_mounts())
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    response.cache_control.no_store = True
    return response


@exception_view_config(TransientError)
def contention(exc, request):
    # pyramid_tm renders commit failures on every attempt; pyramid_retry then
    # retries all but the last one (anarepo.http.retry logs those)
    if is_last_attempt(request):
        log.warning("gave up after %s attempts on %s: %s", request.environ.get("retry.attempts", 1),
                    redact(request.environ.get("PATH_INFO", "")), exc)
    return failure_response(request, 503, "the server is busy with concurrent changes to the same data;"
                            " try again in a moment", RETRY_AFTER_BUSY)


@exception_view_config(ReadOnlyError)
@exception_view_config(StorageSystemError)
def storage_unavailable(exc, request):
    attempt_no_more(request)  # a retry would wait for the absent database again
    log.error("storage unavailable on %s: %r", redact(request.environ.get("PATH_INFO", "")), exc)
    return failure_response(request, 503, "the database is unavailable; try again later", RETRY_AFTER_UNAVAILABLE)


def _client_storage_errors():
    try:
        from ZEO.Exceptions import ClientStorageError
    except ImportError:  # pragma: no cover - ZEO is a dependency
        return ()
    return (ClientStorageError,)


def storage_os_error(exc, request):
    if exc.errno in FULL:
        log.error("storage full on %s: %s", redact(request.environ.get("PATH_INFO", "")), exc)
        return failure_response(request, 507, "the server's storage is full; nothing was stored")
    if exc.errno in NOT_WRITABLE:
        log.error("storage not writable on %s: %s", redact(request.environ.get("PATH_INFO", "")), exc)
        return failure_response(request, 503, "the server cannot write to its storage; nothing was stored",
                                RETRY_AFTER_UNAVAILABLE)
    return internal_error(exc, request)


def raw_face_error(raw_path: str, status: int, message: str, json_mounts=()):
    """The error of a request whose path is not text (or that has no request yet):
    JSON under the mounts of JSON faces (``FaceRegistry.json_mounts``), else text."""
    if raw_path.lstrip("/").split("/", 1)[0] in json_mounts:
        return json_error(status, message)
    return text_error(status, message)


@exception_view_config(UnicodeDecodeError)
def undecodable(exc, request):
    """Bytes that are not UTF-8 where text is expected (the URL, a header, a field)."""
    return failure_response(request, 400, "the request is not valid UTF-8 text where text is expected")


@exception_view_config(Exception)
def internal_error(exc, request):
    log.error("internal error on %s %s", request.method, redact(request.environ.get("PATH_INFO", "")), exc_info=exc)
    return failure_response(request, 500, "internal server error; the operators have the details in the log")


def includeme(config):
    config.add_exception_view(storage_os_error, context=OSError)
    for error in _client_storage_errors():
        config.add_exception_view(storage_unavailable, context=error)
    config.scan(__name__)
