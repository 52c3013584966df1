"""A database server that went away answers 503 with ``Retry-After``, in the face's format.

ZEO's ``ClientDisconnected`` is a ``TransientError`` (retried, then 503 through the
contention view).  RelStorage lets its driver's own exceptions through
(``psycopg2.OperationalError`` and friends when PostgreSQL is stopped or restarted);
they are not ZODB errors, so without this view every request would be a bare 500.
RelStorage reconnects by itself on the next request, so the outage ends when the
database is back, with no restart of the app processes.
"""
from __future__ import annotations

import logging

from ..middleware import redact
from ..views.helpers import face_error

log = logging.getLogger(__name__)

RETRY_AFTER = "10"


def database_unreachable(exc, request):
    log.error("database unreachable on %s: %s", redact(request.path_info), str(exc).strip().splitlines()[:1])
    response = face_error(request, 503, "the database is unreachable; try again in a moment")
    response.headers["Retry-After"] = RETRY_AFTER
    response.cache_control.no_store = True
    return response


def driver_disconnect_errors(db) -> tuple:
    adapter = getattr(db.storage, "_adapter", None)
    driver = getattr(adapter, "driver", None)
    return tuple(getattr(driver, "disconnected_exceptions", ()))


def includeme(config):
    from ..db import get_db

    for error in driver_disconnect_errors(get_db(config.registry)):
        config.add_exception_view(database_unreachable, context=error)
