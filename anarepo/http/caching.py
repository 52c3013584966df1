"""One cache of rendered documents and one conditional-response rule for every face.

Index documents (conda ``repodata.json`` and friends, PyPI simple pages, any
plugin's) are rendered from kept index state into :class:`DocumentCache`, one
process-local LRU bounded in bytes and entries.  A key names what the bytes
depend on and nothing else:

* the document (face, owner, label, name, variant such as format or coding);
* the **revision** of the index state it was rendered from (a new revision is
  a new key: nothing is ever invalidated, old entries age out);
* the **visibility** key of the requester (:meth:`IndexSkeleton.visible_subset
  <anarepo.resources.indexes.IndexSkeleton.visible_subset>`): ``"p"`` for what
  anybody sees, a digest of the visible restricted entries otherwise.  Never a
  user or a token, so two requesters who see the same thing share the bytes.

Renders are single-flight per key: many clients asking for a new
``repodata.json`` at once render it once.

:func:`document_response` answers such a document with the one header policy of
index documents (strong ETag, ``Cache-Control`` public or private, ``Vary``,
``Last-Modified`` once its second is over) and :func:`not_modified` is the one
``If-None-Match``/``If-Modified-Since`` rule; the replay middleware
(:mod:`anarepo.http.replay`), the WSGI front of these documents, uses the same
ETag comparison.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from email.utils import formatdate

from pyramid.response import Response

from .. import clock
from .bodies import body_iter

#: where a request's answer is marked for the replay front (see :func:`mark_replayable`)
REPLAYABLE = "anarepo.replayable"
#: when a replayable answer stops being the right one although nothing was written:
#: an answer made in the second of its document's last change has no Last-Modified,
#: and from the next second on the same document has one (epoch seconds)
REPLAYABLE_UNTIL = "anarepo.replayable_until"


def _cost(value) -> int:
    cost = getattr(value, "nbytes", None)
    return len(value) if cost is None else cost


class DocumentCache:
    """A thread-safe LRU of documents (``bytes``, or objects with ``nbytes``),
    bounded in bytes and in entries; ``on_drop(key, value)`` hears of evictions."""

    def __init__(self, max_bytes: int, max_entries: int | None = None, on_drop=None):
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.on_drop = on_drop
        self.entries: OrderedDict = OrderedDict()
        self.size = 0
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._building: dict = {}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key, default=None):
        with self._lock:
            value = self.entries.get(key)
            if value is None:
                self.misses += 1
                return default
            self.entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value):
        """Keep ``value`` (unless larger than the whole budget) and return it."""
        cost = _cost(value)
        if cost > self.max_bytes:
            return value
        dropped = []
        with self._lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= _cost(old)
                dropped.append((key, old))
            self.entries[key] = value
            self.size += cost
            while len(self.entries) > 1 and (
                    self.size > self.max_bytes or (self.max_entries and len(self.entries) > self.max_entries)):
                dropped.append(self._pop_oldest())
        self._dropped(dropped)
        return value

    def get_or_build(self, key, build):
        """The cached value of ``key``, built once by ``build()`` when missing (other
        threads asking for the same key meanwhile wait for that build)."""
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            flight = self._building.setdefault(key, threading.Lock())
        try:
            with flight:
                with self._lock:
                    value = self.entries.get(key)
                if value is None:
                    value = self.put(key, build())
                return value
        finally:
            with self._lock:
                if self._building.get(key) is flight and not flight.locked():
                    del self._building[key]

    def drop(self, key) -> None:
        with self._lock:
            value = self.entries.pop(key, None)
            if value is not None:
                self.size -= _cost(value)
        if value is not None:
            self._dropped([(key, value)])

    def drop_where(self, predicate) -> None:
        """Drop every entry for which ``predicate(key, value)`` is true."""
        with self._lock:
            keys = [k for k, v in self.entries.items() if predicate(k, v)]
            dropped = [(k, self.entries.pop(k)) for k in keys]
            self.size -= sum(_cost(v) for _, v in dropped)
        self._dropped(dropped)

    def clear(self) -> None:
        self.drop_where(lambda key, value: True)

    def _pop_oldest(self):
        key, value = self.entries.popitem(last=False)
        self.size -= _cost(value)
        return key, value

    def _dropped(self, dropped) -> None:
        if self.on_drop is not None:
            for key, value in dropped:
                self.on_drop(key, value)


def document_cache(registry) -> DocumentCache:
    """The process's cache of rendered documents (``anarepo.documents.*`` settings)."""
    return registry.anarepo_documents


def cached_document(request, key, build):
    """The document ``key`` (see the module docstring), rendered by ``build()`` once."""
    return request.registry.anarepo_documents.get_or_build(key, build)


# -- conditional requests ---------------------------------------------------------------
def etag_matches(if_none_match: str | None, etag: str | None) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (quoted, as sent in ``ETag``);
    weak comparison, as RFC 9110 13.1.2 asks for ``If-None-Match``."""
    if not if_none_match or not etag:
        return False
    etag = etag.removeprefix("W/")
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def settled(mtime: float | None) -> bool:
    """Whether the second of the last change is over.  Last-Modified has one-second
    resolution: sent (and compared) earlier, a second change within the same second
    would carry the same date and be answered 304.  Until then only the ETag
    validates (RFC 9110 8.8.2.2: such a date is a weak validator)."""
    return bool(mtime) and int(mtime) < int(clock.epoch())


def not_modified(request, etag: str | None, mtime: float | None = None) -> bool:
    """The one 304 rule: ``If-None-Match`` when sent (``etag`` quoted), else
    ``If-Modified-Since`` against a settled ``mtime`` (seconds since the epoch)."""
    environ = request.environ
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm:
        return etag_matches(inm, etag)
    if mtime is None or not environ.get("HTTP_IF_MODIFIED_SINCE"):
        return False
    ims = request.if_modified_since
    return bool(ims) and settled(mtime) and int(mtime) <= ims.timestamp()


def mark_replayable(request, body: bytes) -> None:
    """Views call this with the exact body of a public answer that depends only on
    the request fields in the replay key and on the database (:mod:`.replay`)."""
    request.environ[REPLAYABLE] = body


def document_response(request, body_fn, *, etag: str, content_type: str, public: bool, max_age: int,
                      vary: str, mtime: float | None = None, encoding: str | None = None) -> Response:
    """An index document: validators, caching headers, 304 on a match (before
    ``body_fn()`` is called), else the body (zero-copy through waitress).

    ``etag`` is unquoted; ``public`` documents are the same for anybody (``public``
    caching, replayable), others are ``private``.  Headers are built as a list,
    not through WebOb's setters: this is the hot path of every ``pip install`` and
    ``conda install``.
    """
    quoted = f'"{etag}"'
    headers = [
        ("ETag", quoted),
        ("Cache-Control", f"{'public' if public else 'private'}, max-age={max_age}"),
        ("Vary", vary),
    ]
    if settled(mtime):
        headers.append(("Last-Modified", formatdate(int(mtime), usegmt=True)))
    if not_modified(request, quoted, mtime):
        return Response(status=304, headerlist=headers)  # no content headers on a 304
    body = body_fn()
    headers.append(("Content-Type", content_type))
    if encoding:
        headers.append(("Content-Encoding", encoding))
    headers.append(("Content-Length", str(len(body))))
    if public:
        mark_replayable(request, body)
        if mtime and not settled(mtime):
            request.environ[REPLAYABLE_UNTIL] = int(mtime) + 1
    return Response(app_iter=body_iter(request.environ, body), headerlist=headers)


def includeme(config):
    settings = config.registry.settings
    config.registry.anarepo_documents = DocumentCache(int(settings["anarepo.documents.max_bytes"]),
                                                      int(settings["anarepo.documents.max_entries"]) or None)
