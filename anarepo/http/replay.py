"""The WSGI front of the document cache: public answers replayed to anonymous clients
without entering the application.

conda, pixi, pip and uv fetch the same few documents (``repodata.json``, the shard
index, simple pages) over and over, mostly without credentials.  The
application's fixed cost per request (router, transaction, ZODB connection,
security policy: about 0.2 ms) is then larger than waitress's own.  This
middleware keeps the last answer to such a request and replays it while it is
provably still the answer:

* the view marked the response replayable (:func:`mark_replayable`) and it is a
  ``200`` with ``Cache-Control: public`` and no ``Set-Cookie``;
* the request, and every request it is replayed to, carries no credentials at
  all: no path token, no ``Authorization``, no ``Cookie``; only ``GET``;
* no transaction has committed, in any process, since the request that
  produced it began: the database's current revision, read through the storage
  (:mod:`.revision`: a ZEO round trip, a RelStorage poll), is unchanged, so the
  database is exactly as that request saw it and the view would answer the
  same bytes.  When the revision can not be read (the database is down) nothing
  is replayed.  ``max_age`` only bounds memory held by answers nobody asks for.

The same read makes every request current on ZEO without ``server-sync``: a
transaction that begins after the round trip has seen every commit another
process acknowledged before the request arrived (read-your-writes across
processes).  With ``server-sync`` ZEO does that round trip itself, so it is not
repeated for requests that are not replay candidates.

The key holds every request field those views read: method, host, scheme,
script name, path, query, ``Accept`` and ``Accept-Encoding``, and the revision
(the visibility is that of anybody: only anonymous answers are kept).  The
answers live in a :class:`~anarepo.http.caching.DocumentCache` (the engine of
the rendered documents; their bodies are the very ``bytes`` objects that cache
holds, so a replayed document costs no second copy).  ``If-None-Match`` is
answered with a ``304`` here by the one ETag rule
(:func:`~anarepo.http.caching.etag_matches`) when it names the stored ETag; a
request with only ``If-Modified-Since`` goes to the application.
"""
from __future__ import annotations

import time

from .. import clock
from ..revision import keeps_up_with_other_processes, revision_reader
from .bodies import body_iter
from .caching import REPLAYABLE, REPLAYABLE_UNTIL, DocumentCache, etag_matches, mark_replayable
from .middleware import TOKEN_ENV

__all__ = ["REPLAYABLE", "ReplayMiddleware", "mark_replayable"]

CONTENT_HEADERS = ("content-type", "content-length", "content-encoding")


def _anonymous_get(environ) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and TOKEN_ENV not in environ
        and not environ.get("HTTP_AUTHORIZATION")
        and not environ.get("HTTP_COOKIE")
    )


def _key(environ) -> tuple:
    return (
        environ.get("HTTP_HOST", ""), environ.get("wsgi.url_scheme", ""), environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT", ""),
        environ.get("HTTP_ACCEPT_ENCODING", ""),
    )


class Entry:
    __slots__ = ("status", "headers", "not_modified_headers", "body", "etag", "tid", "stored", "file", "until")

    def __init__(self, status, headers, body, tid, until=None):
        self.status, self.headers, self.body, self.tid = status, headers, body, tid
        self.until = until  # epoch second from which the application answers otherwise (REPLAYABLE_UNTIL)
        self.not_modified_headers = [(k, v) for k, v in headers if k.lower() not in CONTENT_HEADERS]
        self.etag = next((v for k, v in headers if k.lower() == "etag"), None)
        self.stored = time.monotonic()
        self.file = None  # (name, headers) when nginx sends the body (DocumentFiles)

    @property
    def nbytes(self) -> int:
        return len(self.body)


class ReplayMiddleware:
    """See the module docstring.  ``registry`` stays reachable as ``.registry``."""

    def __init__(self, app, db, max_bytes: int = 256 << 20, max_age: float = 5.0, documents=None,
                 publish: bool = True, gzip_min: int = 1024):
        self.app = app
        self.documents = documents  # anarepo.deploy.xaccel.DocumentFiles, or None
        self.registry = app.registry
        self.db = db
        self.revision = revision_reader(db)
        self.publisher = None  # anarepo.deploy.published.Publisher: files nginx sends alone
        generations = getattr(db, "anarepo_published", None)
        if generations is not None and publish and max_bytes > 0:
            from ..deploy.published import Publisher

            self.publisher = Publisher(generations, self.revision, gzip_min=gzip_min)
        self.sync_each_request = not keeps_up_with_other_processes(db)
        self.cache = DocumentCache(max_bytes, on_drop=self._dropped)
        self.max_age = max_age
        self.hits = 0

    @property
    def max_bytes(self) -> int:
        return self.cache.max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        self.cache.max_bytes = value

    @property
    def entries(self):
        return self.cache.entries

    @property
    def size(self) -> int:
        return self.cache.size

    def __call__(self, environ, start_response):
        if (self.max_bytes <= 0 or not _anonymous_get(environ)
                or (environ.get("HTTP_IF_MODIFIED_SINCE") and not environ.get("HTTP_IF_NONE_MATCH"))):
            # not a replay candidate (a request with only If-Modified-Since: the view compares dates)
            if self.sync_each_request:
                self.revision()
            return self.app(environ, start_response)
        key = _key(environ)
        tid = self.revision()
        if tid is None:  # the storage can not say: answer through the application
            return self.app(environ, start_response)
        entry = self._lookup(key, tid)
        if entry is not None:
            return self._replay(entry, environ, start_response)
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, capture)
        body = environ.get(REPLAYABLE)
        if body is not None and self._cacheable(seen):
            until = environ.get(REPLAYABLE_UNTIL)
            if self.publisher is not None and until is None:  # nginx would send it after its second
                self.publisher.publish(environ, seen["status"], seen["headers"], body, tid)
            self._store(key, Entry(seen["status"], list(seen["headers"]), body, tid, until))
        return result

    @staticmethod
    def _cacheable(seen) -> bool:
        if not seen.get("status", "").startswith("200"):
            return False
        names = {k.lower(): v for k, v in seen["headers"]}
        return "set-cookie" not in names and "public" in names.get("cache-control", "")

    def _lookup(self, key, tid):
        entry = self.cache.get(key)
        if entry is None:
            return None
        if (entry.tid != tid or time.monotonic() - entry.stored > self.max_age
                or (entry.until is not None and clock.epoch() >= entry.until)):
            self.cache.drop(key)
            return None
        self.hits += 1
        return entry

    def _store(self, key, entry: Entry) -> None:
        if len(entry.body) > self.max_bytes // 4 or self.revision() != entry.tid:
            return  # too big to keep, or already outdated by a commit during the request
        if self.documents is not None:
            entry.file = self.documents.publish(entry.body, entry.headers)
        if self.entries:  # a newer transaction outdated every answer of another one
            self.cache.drop_where(lambda k, e: e.tid != entry.tid)
        self.cache.put(key, entry)

    def _dropped(self, key, entry: Entry) -> None:
        if entry.file is not None:
            self.documents.forget(entry.file[0])

    @staticmethod
    def _replay(entry: Entry, environ, start_response):
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm and etag_matches(inm, entry.etag):
            start_response("304 Not Modified", entry.not_modified_headers)
            return []
        if entry.file is not None:  # nginx sends the stored bytes (X-Accel-Redirect)
            start_response(entry.status, entry.file[1])
            return [b""]
        start_response(entry.status, entry.headers)
        return body_iter(environ, entry.body)
