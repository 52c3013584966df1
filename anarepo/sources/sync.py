"""Mirror sync: copy what a source's filters admit into its owner's label, as uploads.

One run: read the source (a short transaction), read the upstream indexes
(conditional requests: a document that answers 304 costs nothing more), plan
which files to fetch and which to remove, download with bounded concurrency
(spooled to disk and verified against the index's sha256 and size), and publish
each batch in its own transaction through the same inspect → check → publish
path as uploads.  A batch that committed is never fetched again, so an
interrupted run resumes where it stopped.  The upstream's validators are saved
only when the run finished without errors, so a failed run re-reads everything.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..clock import isoformat, utcnow
from ..db import ROOT_KEY, get_db
from ..storage import blob_tmpdir
from .fetch import Fetcher, UpstreamError, fetcher_for
from .filters import AllOf, Filters
from .model import SourceError
from .upstream import conda_listing, pypi_listing, pypi_projects

log = logging.getLogger(__name__)
DEFAULT_SUBDIRS = ("noarch",)


@dataclass
class Run:
    source: str
    mode: str = "mirror"
    started: str = field(default_factory=lambda: isoformat(utcnow()))
    finished: str = ""
    seconds: float = 0.0
    added: int = 0
    removed: int = 0
    patched: int = 0
    unchanged: int = 0
    failed: int = 0
    shadowed: int = 0  # upstream files left out: their package holds local uploads
    errors: list = field(default_factory=list)

    def error(self, message: str) -> None:
        self.failed += 1
        if len(self.errors) < 20:
            self.errors.append(message)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class SourceView:
    """A plain copy of what a run needs from the persistent Source (no object crosses
    threads).  What the source brought (``source.files``) is not copied: a run reads
    the part its listing touches (:func:`plan`), so a refresh costs what changed."""

    owner: str
    name: str
    kind: str
    mode: str
    url: str
    label: str
    subdirs: tuple
    filters: Filters
    remove_missing: bool
    allow_hosts: tuple
    credential: tuple
    validators: dict
    merge_local: bool = False


def find_source(root, owner_name: str, source_name: str):
    owner = root.get_owner(owner_name)
    if owner is None:
        raise SourceError(f"no owner named {owner_name!r}")
    source = owner.sources.get(source_name.lower())
    if source is None:
        raise SourceError(f"{owner.login} has no source named {source_name!r}")
    return owner, source


def effective_filters(owner, source):
    """The source's filters, and its label's for that kind when the label has some."""
    own = Filters.parse(source.filters, source.kind)
    label = owner.labels.get(source.label)
    extra = label.source_filters.get(source.kind) if label is not None else None
    return AllOf(own, Filters.parse(extra, source.kind)) if extra else own


def view_of(owner, source) -> SourceView:
    return SourceView(owner.login, source.name, source.kind, source.mode, source.url, source.label,
                      source.subdirs, effective_filters(owner, source), source.remove_missing,
                      source.allow_hosts, source.credential(), dict(source.validators.items()),
                      source.merge_local)


class _Creds:
    """What :class:`Fetcher` reads from a source."""

    def __init__(self, view: SourceView):
        self.url, self.allow_hosts = view.url, view.allow_hosts
        self._credential = view.credential

    def credential(self):
        return self._credential


def listing_for(view: SourceView, fetcher: Fetcher, records, force: bool = False, scope: str | None = None):
    """Read the upstream: everything (``scope`` None), one conda subdir or PyPI project,
    or ``"*"``: what a proxy lists without crawling (every subdir; the exactly named projects).
    ``records``: the source's type's ``upstream_records``."""
    validators = {} if force else view.validators
    if view.kind == "conda":
        subdirs = view.subdirs or DEFAULT_SUBDIRS
        if scope not in (None, "*"):
            subdirs = [scope] if scope in subdirs else []
        return conda_listing(fetcher, subdirs, view.filters, validators, records)
    projects = None
    if scope == "*":
        from packaging.utils import canonicalize_name

        projects = sorted({canonicalize_name(n) for n in view.filters.names if not any(c in n for c in "*?[")})
        if view.mode == "proxy":  # the root lists every upstream project the filters let through
            listing = pypi_listing(fetcher, view.filters, validators, projects)
            listing.projects = pypi_projects(fetcher, view.filters)
            return listing
    elif scope is not None:
        projects = [scope]
    return pypi_listing(fetcher, view.filters, validators, projects)


def _nothing_there(registry, view: SourceView, scope: str | None, exc: UpstreamError) -> bool:
    """A proxy's one-project read that the upstream answered 404, for a project this
    source never brought: not a failed run, just no such project."""
    if view.kind != "pypi" or scope in (None, "*") or exc.status != 404:
        return False
    with get_db(registry).transaction() as conn:
        _, source = find_source(conn.root()[ROOT_KEY], view.owner, view.name)
        return not _has_under(source.files, f"{scope}/")


#: above every character a key may hold: ``prefix + _END`` closes a prefix's key range
_END = "\U0010ffff"


def _has_under(files, prefix: str) -> bool:
    try:
        return files.minKey(prefix).startswith(prefix)
    except ValueError:  # no key at or above it
        return False


def _tops(files):
    """The distinct first segments (``<subdir>/``, ``<project>/``) of the keys, each
    found by one range query: what a whole run may remove beyond what it read."""
    low = ""
    while True:
        try:
            key = files.minKey(low)
        except ValueError:
            return
        top = key.split("/", 1)[0] + "/"
        yield top
        low = top + _END


def _candidates(view: SourceView, listing, files, whole: bool):
    """The keys a listing may remove, read only where it can remove something: the
    upstream's ``removed`` list; with ``remove_missing``, each key under a document
    that changed (with CEP-16 shards, only under the packages whose shard changed or
    went away) and, in a whole run, every key under a subdir or project not read."""
    for key in listing.removed:
        if key in files:
            yield key
    if not view.remove_missing:
        return
    for top in (_tops(files) if whole else sorted(listing.read)):
        if top in listing.unchanged:
            continue  # the document answered 304: everything under it stays
        names = listing.scan_names.get(top) if top in listing.read else None
        if names is None:
            yield from files.keys(top, top + _END)
            continue
        for name in sorted(names):  # "<subdir>/<name>-": other names may share the prefix
            for key, entry in files.items(f"{top}{name}-", f"{top}{name}-{_END}"):
                if entry[0] == name:
                    yield key


def plan(view: SourceView, listing, files, whole: bool = True) -> tuple[dict, list, dict]:
    """(to fetch: key -> Want, to remove: keys, to patch: key -> patch) against what the
    source brought (``files``: its BTree, read in the caller's transaction).  A partial
    listing (``whole`` false) only removes within what it read.  Reads of ``files``
    follow the listing, never the whole map: a resync costs what changed."""
    fetch, patch = {}, {}
    for key, want in listing.wants.items():
        known = files.get(key)
        if known is None or known[3] != want.sha256:
            fetch[key] = want
        elif want.patch and tuple(sorted(want.patch.items(), key=str)) != known[4]:
            patch[key] = want.patch
    remove = []
    for key in dict.fromkeys(_candidates(view, listing, files, whole)):
        if key in listing.removed:
            remove.append(key)  # the upstream removed it: honoured always
        elif key in listing.wants or any(key.startswith(p) for p in listing.unchanged):
            continue
        elif (key.split("/", 1)[0], files[key][0]) in listing.unchanged_names:
            continue  # its package's CEP-16 shard did not change
        elif view.remove_missing:
            remove.append(key)  # it left the filter (or the upstream)
    return fetch, remove, patch


#: the last field of a ``source.files`` entry for a file the source found already there
#: (an upload, another source's) with the same bytes: it counts as brought, but the
#: source never patches, unlabels or removes it
ADOPTED = "adopted"


def _adopted(entry) -> bool:
    return len(entry) > 5 and entry[5] == ADOPTED


def _patch_key(patch: dict) -> tuple:
    return tuple(sorted(patch.items(), key=str))


def apply_patch(dist, patch: dict) -> bool:
    attrs = dict(dist.attrs)
    changed = {k: v for k, v in patch.items() if attrs.get(k) != v}
    if not changed:
        return False
    attrs.update(changed)
    dist.attrs = attrs
    return True


def _find_dist(owner, entry):
    package = owner.get_package(entry[0])
    release = package.releases.get(entry[1]) if package is not None else None
    return release.files.get(entry[2]) if release is not None else None


def _publish_batch(registry, view: SourceView, batch: list, run: Run, progress=None) -> None:
    """Publish spooled, verified files (key, want, spooled) in one transaction."""
    from ..services.events import package_changed
    from ..plugins import InvalidPackage
    from ..services.publishing import batch as publishing_batch
    from ..errors import PublishError
    from .shadowing import LocalPackages

    db = get_db(registry)
    try:
        with db.transaction(f"anarepo mirror sync {view.owner}/{view.name}") as conn:
            owner, source = find_source(conn.root()[ROOT_KEY], view.owner, view.name)
            local = LocalPackages(owner, view.merge_local)
            with publishing_batch(registry, owner):  # each type indexes once, at its end
                for key, want, spooled in batch:
                    try:
                        dist = _publish_one(registry, owner, view, want, spooled, local)
                    except (InvalidPackage, PublishError, ValueError) as exc:
                        spooled.discard()
                        run.error(f"{want.filename}: {exc}")
                        continue
                    adopted = dist.uploader != f"mirror:{view.name}"
                    if not adopted:  # someone else's file with the same bytes is never changed
                        if want.upload_time:
                            from datetime import datetime

                            dist.upload_time = datetime.fromisoformat(want.upload_time)
                            package_changed(registry, dist.package)
                        if want.patch and apply_patch(dist, want.patch):
                            package_changed(registry, dist.package)
                        if want.yanked is not None and dist.type == "pypi":
                            from ..services.packages import set_yanked

                            set_yanked(registry, dist.package, [dist], want.yanked)
                    source.remember(key, (dist.package.name, dist.version, dist.basename, dist.sha256,
                                          _patch_key(want.patch)) + ((ADOPTED,) if adopted else ()))
                    run.added += 1
                    if progress is not None:
                        progress(1)
    finally:
        for _, _, spooled in batch:
            spooled.discard()  # consumed ones are gone already


def _publish_one(registry, owner, view, want, spooled, local):
    """Publish a verified file through the publishing service (as the operator: the
    source's admins set it up); a file already there with the same bytes is adopted.
    ``local`` (a LocalPackages) refuses a package that holds local uploads."""
    from ..errors import FileExists
    from ..services import publishing

    ptype = registry.package_types[view.kind]
    info = publishing.inspect_upload(ptype, spooled.path, want.filename, registry=registry)  # bounded pool
    local.check(info.name, want.filename)  # a local upload may have come since the plan
    try:
        return publishing.publish(owner, spooled, ptype, info, labels=[view.label], uploader=f"mirror:{view.name}",
                                  operator=registry)
    except FileExists as exc:
        dist = exc.existing
        if dist.sha256 != spooled.sha256 or dist.upstream is not None:
            raise
        if view.label not in dist.labels:
            from ..services.events import package_changed

            dist.set_labels(dist.labels + (view.label,))
            owner.ensure_label(view.label)
            package_changed(registry, dist.package)
        return dist


def _remove_and_patch(registry, view: SourceView, remove: list, patch: dict, run: Run) -> None:
    from ..services.events import package_changed
    from ..services.contents import remove_distribution, remove_release

    if not remove and not patch:
        return
    with get_db(registry).transaction(f"anarepo mirror sync {view.owner}/{view.name}: removals") as conn:
        owner, source = find_source(conn.root()[ROOT_KEY], view.owner, view.name)
        for key in remove:
            entry = source.files.get(key)
            dist = _find_dist(owner, entry) if entry is not None and not _adopted(entry) else None
            if dist is not None and dist.sha256 == entry[3]:
                if set(dist.labels) - {view.label}:
                    dist.set_labels(tuple(lab for lab in dist.labels if lab != view.label))
                    package_changed(registry, dist.package)
                else:
                    release = dist.release
                    remove_distribution(registry, dist)
                    if not len(release.files):
                        remove_release(registry, release)  # no empty versions left behind
                run.removed += 1
            source.forget(key)
        for key, fields in patch.items():
            entry = source.files.get(key)
            dist = _find_dist(owner, entry) if entry is not None and not _adopted(entry) else None
            if dist is not None and apply_patch(dist, fields):
                package_changed(registry, dist.package)
                run.patched += 1
            if entry is not None:
                source.remember(key, entry[:4] + (_patch_key(fields),) + entry[5:])


def _finish(registry, view: SourceView, run: Run, validators: dict | None, scope: str,
            projects: list | None = None) -> None:
    with get_db(registry).transaction(f"anarepo mirror sync {view.owner}/{view.name}: done") as conn:
        _, source = find_source(conn.root()[ROOT_KEY], view.owner, view.name)
        if projects is not None:
            source.set_upstream_projects(projects)
        if validators is not None:
            for doc, value in validators.items():
                source.validators[doc] = value
            source.refreshed[scope] = time.time()
        if run.added or run.removed or run.patched or run.failed or scope == "*":
            source.record_run(run.as_dict())


def _without_shadowed(registry, view: SourceView, to_fetch: dict, run: Run) -> dict:
    """``to_fetch`` less the files whose package holds local uploads (counted as
    shadowed: never downloaded, and no failure, so the run keeps its validators)."""
    if view.merge_local or not to_fetch:
        return to_fetch
    from .shadowing import LocalPackages

    with get_db(registry).transaction() as conn:
        owner, _ = find_source(conn.root()[ROOT_KEY], view.owner, view.name)
        local = LocalPackages(owner, view.merge_local)
        kept = {key: want for key, want in to_fetch.items() if not local.shadows(want.name)}
    run.shadowed += len(to_fetch) - len(kept)
    return kept


def _place_batch(registry, view: SourceView, items: list, run: Run) -> None:
    """Proxy mode: list the files (proxied Distributions), fetch nothing."""
    from ..errors import PublishError
    from ..services.publishing import batch as publishing_batch
    from .proxy import place
    from .shadowing import LocalPackages

    with get_db(registry).transaction(f"anarepo proxy refresh {view.owner}/{view.name}") as conn:
        owner, source = find_source(conn.root()[ROOT_KEY], view.owner, view.name)
        local = LocalPackages(owner, view.merge_local)
        with publishing_batch(registry, owner):  # each type indexes once, at its end
            for key, want in items:
                try:
                    local.check(want.name, want.filename)  # a local upload may have come since the plan
                    dist = place(registry, owner, view, want)
                except (PublishError, ValueError) as exc:
                    run.error(f"{want.filename}: {exc}")
                    continue
                source.remember(key, (dist.package.name, dist.version, dist.basename, dist.sha256,
                                      _patch_key(want.patch)))
                run.added += 1


def sync(registry, owner_name: str, source_name: str, *, workers: int = 4, batch: int = 100,
         progress=None, force: bool = False, scope: str | None = None) -> dict:
    """One run (mirror: copy files; proxy: list them); returns its record (kept in
    the source's history when it changed something).  ``scope``: see :func:`listing_for`."""
    started = time.monotonic()
    with get_db(registry).transaction() as conn:
        view = view_of(*find_source(conn.root()[ROOT_KEY], owner_name, source_name))
    ptype = registry.package_types.get(view.kind)
    if ptype is None or ptype.upstream_records is None:  # a site that turned the type's plugin off since
        raise SourceError(f"this server does not serve {view.kind} packages (anarepo.disabled_plugins)")
    run = Run(view.name, view.mode)
    settings = registry.settings
    fetcher = fetcher_for(_Creds(view), settings)
    validators = None
    try:
        listing = listing_for(view, fetcher, ptype.upstream_records, force, scope)
    except UpstreamError as exc:
        if _nothing_there(registry, view, scope, exc):
            return run.as_dict()  # anyone may ask a proxy for any name: no write for a name nobody has
        run.error(str(exc))
        listing = None
    if listing is not None:
        with get_db(registry).transaction() as conn:
            _, source = find_source(conn.root()[ROOT_KEY], view.owner, view.name)
            to_fetch, to_remove, to_patch = plan(view, listing, source.files, whole=scope is None)
            known, count = {key for key in to_fetch if key in source.files}, source.count_files()
        to_fetch = _without_shadowed(registry, view, to_fetch, run)
        run.unchanged = count - len(known & to_fetch.keys()) - len(to_remove)
        if progress is not None:
            progress(total=len(to_fetch))
        tmpdir = blob_tmpdir(get_db(registry))
        max_size = int(settings["anarepo.max_upload_size"])

        def fetch_one(item):
            key, want = item
            try:
                return key, want, fetcher.download(want.url, tmpdir, want.sha256, want.size, max_size)
            except UpstreamError as exc:
                return key, want, exc

        pending = []
        items = sorted(to_fetch.items())
        if view.mode == "proxy":
            for start in range(0, len(items), batch * 10):
                _place_batch(registry, view, items[start:start + batch * 10], run)
            items = []
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for start in range(0, len(items), batch):
                for key, want, result in pool.map(fetch_one, items[start:start + batch]):
                    if isinstance(result, Exception):
                        run.error(str(result))
                    else:
                        pending.append((key, want, result))
                    if progress is not None:
                        progress(advance=1)
                _publish_batch(registry, view, pending, run)
                pending = []
        _remove_and_patch(registry, view, to_remove, to_patch, run)
        if not run.failed:
            validators = listing.validators
    run.finished = isoformat(utcnow())
    run.seconds = round(time.monotonic() - started, 3)
    _finish(registry, view, run, validators, scope or "*",
            listing.projects if listing is not None and validators is not None else None)
    log.info("mirror sync %s/%s: %d added, %d removed, %d failed", view.owner, view.name,
             run.added, run.removed, run.failed)
    return run.as_dict()
