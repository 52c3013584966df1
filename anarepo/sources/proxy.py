"""Proxy mode: the upstream's (filtered) packages listed at once, their bytes fetched on first request.

A refresh (on a TTL, from :func:`proxy_tween_factory` before the request's own
transaction begins, or ``anarepo mirror sync`` ahead of time) reads the upstream
index with conditional requests and places a *proxied* Distribution for each
new file: a real Distribution of a real package (same permissions, labels,
indexes, counts as an upload) whose record comes from the upstream index and
whose ``upstream`` says where the bytes are.  The first download of it fetches
the bytes, verifies size and sha256 against the record, inspects them like an
upload, and stores them in the blob in its own transaction; from then on the
file is served locally, whatever the upstream does.

When a refresh fails the last good index keeps being served and answers carry
``X-Anarepo-Upstream: stale`` (with a ``Warning: 111``); a fresh one says
``fresh``.  Index answers of proxied labels are not replayed past their TTL.
"""
from __future__ import annotations

import logging
import re
import threading
import time

from pyramid.httpexceptions import HTTPBadGateway, HTTPNotFound, HTTPServiceUnavailable

from ..db import ROOT_KEY, get_db
from ..storage import blob_tmpdir
from .fetch import UpstreamError, fetcher_for

log = logging.getLogger(__name__)
UPSTREAM_HEADER = "X-Anarepo-Upstream"
NEGATIVE_TTL = 2.0  # seconds a "no proxy here" answer is trusted in this process
RETRY_AFTER_ERROR = 30.0  # at most this long before a failed upstream is asked again
#: downloads of proxied files running inside requests at once, per process
#: (``anarepo.sources.max_fetches``): any user may define a source whose upstream
#: trickles bytes for the whole deadline; it holds at most these threads, others wait
#: for a slot at most the upstream timeout, then answer 503
MAX_FETCHES = 4

_CONDA_DOC = re.compile(r"^/conda/([^/]+)(?:/label/([^/]+))?/(?:([^/]+)/(?:current_)?repodata(?:\.json(?:\.zst)?|_shards\.msgpack\.zst)|channeldata\.json)$")
_PYPI_DOC = re.compile(r"^/pypi/([^/]+)(?:/label/([^/]+))?/simple/(?:([^/]+)/?)?$")


# -- placing proxied records -----------------------------------------------------------
def place(registry, owner, view, want):
    """A proxied Distribution for ``want`` (a Want with name, version and record).

    The publishing service's own checks (names, labels, type compatibility, an
    existing file) decide first; only the bytes are missing, so the Distribution
    is made here and completed by :func:`fetch_upstream`.
    """
    from ..errors import FileExists
    from ..services.events import package_changed
    from ..errors import Conflict
    from ..services.contents import create_package, create_release
    from ..resources.packages import Distribution
    from ..services import publishing

    ptype = registry.package_types[view.kind]
    basename = want.filename
    try:
        placement = publishing.preflight(owner, ptype, want.name, want.version, basename, [view.label],
                                         operator=registry)
    except FileExists as exc:
        existing = exc.existing
        if existing.sha256 == want.sha256:
            if view.label not in existing.labels:
                existing.set_labels(existing.labels + (view.label,))
                owner.ensure_label(view.label)
                package_changed(registry, existing.package)
            return existing
        if existing.upstream is None:
            raise  # a local file of that name: never replaced by an upstream record
        existing.release.remove_file(basename)  # an unfetched record the upstream replaced
        placement = publishing.preflight(owner, ptype, want.name, want.version, basename, [view.label],
                                         operator=registry)
    labels = placement.labels
    package = placement.package or create_package(owner, want.name, registry=registry)
    release = package.releases.get(want.version) or create_release(package, want.version)
    existing = None
    dist = Distribution(basename, ptype.name)
    dist.size, dist.sha256 = want.size or 0, want.sha256
    ptype.upstream_records.place(dist, want)  # the type's fields, served before the bytes are here
    dist.upstream = (view.name, want.url)
    dist.uploader = f"proxy:{view.name}"
    dist.set_labels(labels)
    release.add_file(dist)
    owner.ensure_label(view.label)
    package.add_type(ptype.name)
    package_changed(registry, package, added=dist if existing is None else None)
    return dist


def root_projects(owner, label: str) -> tuple[tuple, tuple]:
    """(cache key part, names): the upstream projects the PyPI proxies of ``owner``'s
    ``label`` list on its root page, each through the source's and the label's filters."""
    from .sync import effective_filters

    sources = getattr(owner, "sources", None)
    if sources is None:
        return (), ()
    key, names = [], set()
    for source in sources.values():
        if source.mode != "proxy" or source.kind != "pypi" or source.label != label:
            continue
        key.append((source.name, source.projects_serial))
        if source.upstream_projects is not None:
            filters = effective_filters(owner, source)
            names.update(n for n in source.upstream_projects.names if filters.name_ok(n))
    return tuple(key), tuple(sorted(names))


# -- fetching on first request -----------------------------------------------------------
def fetch_upstream(request, dist) -> str:
    """The committed file of a proxied Distribution, fetched and verified now if needed."""
    registry = request.registry
    db = get_db(registry)
    oid = dist._p_oid
    source_name, url = dist.upstream
    source = dist.package.owner.sources.get(source_name)
    if source is None:
        raise HTTPNotFound()
    settings = registry.settings
    fetcher = fetcher_for(source, settings)
    slots = getattr(registry, "anarepo_fetch_slots", None)
    # a client's burst (uv fetches dozens at once) waits a little for a slot; a trickling upstream's holders do not
    if slots is not None and not slots.acquire(timeout=float(settings.get("anarepo.sources.timeout", 10))):
        raise HTTPServiceUnavailable("the server is fetching other files from upstreams; retry in a moment",
                                     headers={"Retry-After": "5"})
    try:
        try:
            spooled = fetcher.download(url, blob_tmpdir(db), dist.sha256, dist.size or None,
                                       int(settings["anarepo.max_upload_size"]))
        except UpstreamError as exc:
            log.warning("proxy fetch failed: %s", exc)  # the details (the upstream's URL) are the admins'
            raise HTTPBadGateway("the upstream did not deliver this file; try again later") from None
        try:
            _store(registry, db, oid, dist.type, spooled)
        finally:
            spooled.discard()
    finally:
        if slots is not None:
            slots.release()
    with db.transaction() as conn:
        return conn.get(oid).blob.committed()


def _store(registry, db, oid, type_name, spooled) -> None:
    """Put verified bytes into the proxied Distribution (unless another request did)."""
    from ZODB.POSException import ConflictError

    from ..services.events import package_changed
    from ..inspection import inspect_bounded
    from ..names import package_key
    from ..plugins import InvalidPackage

    ptype = registry.package_types[type_name]
    for _ in range(3):
        try:
            with db.transaction("anarepo proxy: fetched a file") as conn:
                dist = conn.get(oid)
                if dist.upstream is None:
                    return
                try:  # a stranger's bytes: the uploads' bounded pool and work budget
                    info = inspect_bounded(spooled.path, ptype.inspect, spooled.path, dist.basename,
                                           registry=registry)
                except (InvalidPackage, ValueError) as exc:
                    raise HTTPBadGateway(f"the upstream file is not a valid package: {exc}") from None
                if package_key(info.name) != package_key(dist.package.name) or info.version != dist.version:
                    raise HTTPBadGateway("the upstream file is another package than its index says")
                dist.blob.consumeFile(spooled.path)
                dist.md5 = spooled.md5
                ptype.upstream_records.fetched(dist, info)
                dist.upstream = None
                package_changed(registry, dist.package)
            return
        except ConflictError:
            continue
    raise HTTPBadGateway("the file is being stored by another request; try again")


# -- refreshing on a TTL ------------------------------------------------------------------
class DueTimes:
    """Process-local: when each (kind, owner, label, scope) is next revalidated, and its state."""

    def __init__(self):
        self.data: dict = {}
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            return self.data.get(key)

    def set(self, key, until: float, state: str | None) -> None:
        with self.lock:
            self.data[key] = (until, state)
            if len(self.data) > 100_000:
                self.data.clear()


def target_of(path: str):
    """(kind, owner, label, scope) of an index document's path, else None."""
    from packaging.utils import canonicalize_name

    m = _CONDA_DOC.match(path)
    if m:
        return "conda", m.group(1).lower(), (m.group(2) or "main").lower(), m.group(3)
    m = _PYPI_DOC.match(path)
    if m:
        project = canonicalize_name(m.group(3)) if m.group(3) else None
        return "pypi", m.group(1).lower(), (m.group(2) or "main").lower(), project
    return None


def proxies_for(root, kind, owner_name, label):
    owner = root.get_owner(owner_name)
    if owner is None:
        return []
    return [s for s in owner.sources.values() if s.mode == "proxy" and s.kind == kind and s.label == label]


_locks: dict = {}
_locks_guard = threading.Lock()


def _lock_for(key) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _due(db, owner_name, name, scope) -> bool:
    with db.transaction() as conn:
        owner = conn.root()[ROOT_KEY].get_owner(owner_name)
        source = owner.sources.get(name) if owner is not None else None
        return source is not None and time.time() - source.refreshed.get(scope, 0) >= source.ttl


def refresh_target(registry, target) -> tuple[float, str | None]:
    """Revalidate the proxies behind ``target`` when due; (seconds until next, "fresh"/"stale"/None).

    One refresh per source at a time in this process (clients ask for several
    subdirs at once); a conflict with another process is retried once.  A request
    waits for another's refresh of the same source at most the upstream timeout,
    then answers what is there ("stale"): a slow upstream holds one thread, not all.
    """
    from ZODB.POSException import ConflictError

    from .filters import Filters
    from .sync import sync

    kind, owner_name, label, scope = target
    scope = scope or "*"
    db = get_db(registry)
    with db.transaction() as conn:
        names, ttl = [], None
        for source in proxies_for(conn.root()[ROOT_KEY], kind, owner_name, label):
            ttl = source.ttl if ttl is None else min(ttl, source.ttl)
            if kind == "pypi" and scope != "*" and not Filters.parse(source.filters, "pypi").name_ok(scope):
                continue
            if kind == "conda" and scope != "*" and scope not in (source.subdirs or ("noarch",)):
                continue
            names.append(source.name)
    if ttl is None:
        return NEGATIVE_TTL, None
    state = "fresh"
    patience = float(registry.settings.get("anarepo.sources.timeout", 10))
    for name in names:
        lock = _lock_for((owner_name, name))
        if not lock.acquire(timeout=patience):
            state = "stale"  # another request is refreshing it: not revalidated by this one
            continue
        try:
            if not _due(db, owner_name, name, scope):
                continue
            for attempt in range(2):
                try:
                    run = sync(registry, owner_name, name, scope=scope)
                    break
                except ConflictError:
                    if attempt:
                        raise
            if run["failed"]:
                state = "stale"
        finally:
            lock.release()
    return (min(ttl, RETRY_AFTER_ERROR) if state == "stale" else ttl) or 0.0, state


def proxy_tween_factory(handler, registry):
    """Revalidate proxied indexes before the request's transaction sees them."""
    from ..http.caching import REPLAYABLE

    due = registry.anarepo_proxy_due = DueTimes()
    registry.anarepo_fetch_slots = threading.BoundedSemaphore(
        int(registry.settings.get("anarepo.sources.max_fetches", MAX_FETCHES)))

    def proxy_tween(request):
        if request.method not in ("GET", "HEAD"):
            return handler(request)
        target = target_of(request.environ.get("PATH_INFO", ""))  # raw: an undecodable path is not ours
        if target is None:
            return handler(request)
        cached = due.get(target)
        now = time.time()
        if cached is None or cached[0] <= now:
            try:
                wait, state = refresh_target(registry, target)
            except Exception:  # a refresh must never break serving what is there
                log.exception("proxy refresh of %s failed", target[:3])
                wait, state = RETRY_AFTER_ERROR, "stale"
            due.set(target, now + wait, state)
        else:
            state = cached[1]
        response = handler(request)
        if state is not None:
            request.environ.pop(REPLAYABLE, None)
        # only on an answer that shows something: on a 404 it would tell a stranger that
        # behind a private name (or a project nobody may see) a proxy exists
        if state is not None and response.status_code < 400:
            response.headers[UPSTREAM_HEADER] = state
            if state == "stale":
                response.headers["Warning"] = '111 - "Revalidation Failed"'
        return response

    return proxy_tween
