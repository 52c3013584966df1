"""Class paths are schema: where persistent classes used to live.

ZODB records each object's class as ``module.Class`` in its pickle.  When a
class moves, databases written before still name the old path, so every
database anarepo opens reads pickles through :func:`class_factory`
(:class:`DB`, which :func:`anarepo.db.db_from_uri` opens), which looks old paths up here first.  New
writes name the new path.  Entries are never removed: a database may be opened
by any later release.  Moving a persistent class means adding its old path here
and a test in ``tests/functional/test_legacy_database*.py``.
"""
from __future__ import annotations

import ZODB
from ZODB.broken import find_global

#: (old module, class name) -> new module (the class keeps its name)
MOVED = {
    # 2026-12, issue 16: the core's persistent classes moved into anarepo.resources
    ("anarepo.security.tokens", "Token"): "anarepo.resources.tokens",
    ("anarepo.staging", "Stage"): "anarepo.resources.staging",
    ("anarepo.staging", "StagingArea"): "anarepo.resources.staging",
    ("anarepo.notices", "Notice"): "anarepo.resources.notices",
    ("anarepo.notifications", "Notification"): "anarepo.resources.notifications",
    ("anarepo.notifications", "Inbox"): "anarepo.resources.notifications",
}


def class_factory(connection, modulename: str, globalname: str):
    """ZODB's class lookup for a pickle's ``module.Class``, old paths mapped."""
    return find_global(MOVED.get((modulename, globalname), modulename), globalname)


class DB(ZODB.DB):
    """ZODB's DB, reading moved classes at their new paths.  Each connection's
    reader takes its class factory from the DB when the connection is made, so
    this is a subclass rather than an attribute set after opening."""

    def classFactory(self, connection, modulename, globalname):
        return class_factory(connection, modulename, globalname)
