"""A database going away answers 503 with ``Retry-After`` like other storage
failures, within seconds, and the processes recover by themselves.

ZEO: a request waits ``anarepo.zeo_wait_timeout`` seconds (2) for an absent
server (:func:`anarepo.deploy.zeoclient.bound_request_waits`), then
``ClientDisconnected`` answers 503, and is not retried
(:func:`anarepo.http.retry.attempt_no_more`): each attempt would wait again.

ZEO's ``ClientDisconnected`` is a ZODB storage error (``views/failures.py``).
RelStorage lets its driver's own exceptions through (``psycopg2.OperationalError``
and friends when PostgreSQL is stopped or restarted); they are not ZODB errors,
so they get the same view here, else every request would be a 500.  RelStorage
reconnects by itself on the next request, so the outage ends when the database
is back, with no restart of the app processes.
"""
from __future__ import annotations


def driver_disconnect_errors(db) -> tuple:
    adapter = getattr(db.storage, "_adapter", None)
    driver = getattr(adapter, "driver", None)
    return tuple(getattr(driver, "disconnected_exceptions", ()))


def includeme(config):
    from ..db import get_db
    from ..views.failures import storage_unavailable
    from .zeoclient import bound_request_waits

    db = get_db(config.registry)
    bound_request_waits(db, float(config.registry.settings["anarepo.zeo_wait_timeout"]))
    for error in driver_disconnect_errors(db):
        config.add_exception_view(storage_unavailable, context=error)
