"""PyPI index state per (owner, label, project), kept in step with the tree.

``sync_package`` runs inside the writing transaction (upload, removal, label,
access, yank or transfer) and touches only the index records of that one
package (an upload of one more file into an indexed project only adds that
file's record: ``add_distribution``): it rebuilds the package's file records from its distributions and
replaces, per label, the records it owns in the project's state.  Pages are
rendered from this state and cached by ``revision`` (see ``cache.py``); no
request walks an owner.

Layout, on the owner (``owner.indexes["pypi"]``, created on the first pypi file)::

    OwnerIndex (the core's IndexRoot)
      labels    OOBTree label -> LabelIndex
      places    OOBTree package key -> (project, labels it has pypi files in)
      projects  OOBTree project -> tuple of package keys   (upload lookup)
    LabelIndex (the core's IndexSkeleton)
      projects    OOBTree project -> ProjectIndex
      restricted  OOBTree project -> package keys, for projects without a public package
      revision    Revision: changes when the project list or its visibility changes
    ProjectIndex
      files     OOBTree filename -> record dict (immutable by convention)
      access    dict package key -> access level
      revision  changes with every change of the project's files in this label

Each wheel's METADATA is stored once, with its distribution
(``dist.extras["pypi"]``, a :class:`StoredMetadata`), for PEP 658.
"""
from __future__ import annotations

import logging
import uuid

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ...plugins.api import (
    IndexRoot, IndexSkeleton, Revision, adopt_dist_extra, adopt_plugin_state, dist_extra, drop_plugin_state,
    fresh_revision, isoformat_z, owner_indexes, package_key, plugin_state, set_dist_extra, three_way_merge,
)
from .inspect import InvalidPackage, normalize, read_metadata

log = logging.getLogger(__name__)

TYPE_NAME = "pypi"
STATE = "pypi"  # the key of the index in Owner.indexes


def new_revision() -> str:
    return uuid.uuid4().hex


class StoredMetadata(Persistent):
    """A wheel's METADATA bytes (PEP 658), kept out of the Distribution record."""

    def __init__(self, data: bytes | None, sha256: str | None, requires_python: str | None):
        self.data = data
        self.sha256 = sha256
        self.requires_python = requires_python


def _merge_access(old, committed: dict, new: dict) -> dict:
    return three_way_merge(old or {}, committed, new, {})


class ProjectIndex(Persistent):
    """Uploads of different files into one project add to ``files`` (a BTree) and
    both renew ``revision``: the merge keeps both (a third revision)."""

    def __init__(self, name: str):
        self.name = name
        self.display_name = name
        self.files = OOBTree()
        self.access = {}
        self.revision = new_revision()

    def _p_resolveConflict(self, old, committed, new):
        return three_way_merge(old or {}, committed, new, {"revision": fresh_revision, "access": _merge_access})


class LabelIndex(IndexSkeleton):
    """One label: the skeleton (revision, restricted projects → package keys) and its projects."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.projects = OOBTree()


class OwnerIndex(IndexRoot):
    """An owner's index: places (package key → (project, labels)), labels, projects."""

    def __init__(self):
        super().__init__()
        self.labels = OOBTree()
        self.projects = OOBTree()


def onto_skeleton(root) -> int:
    """Evolve step ``pypi.skeleton-1``: indexes of older releases onto the core's
    skeleton: ``packages`` becomes ``places`` (the same BTree), a label's revision
    (a random string) becomes a :class:`Revision` with its public twin."""
    count = 0
    for _owner, index in owner_indexes(root, STATE):
        if "packages" in index.__dict__:
            index.places = index.__dict__["packages"]
            del index.packages
            count += 1
        for lindex in index.labels.values():
            if not isinstance(lindex.revision, Revision):
                lindex.revision, lindex.public_revision = Revision(), Revision()
                count += 1
    return count


def owner_index(owner, create: bool = False) -> OwnerIndex | None:
    return plugin_state(owner, STATE, OwnerIndex if create else None)


def reset(owner) -> None:
    drop_plugin_state(owner, STATE)


def move_to_plugin_state(root) -> None:
    """Evolve step ``pypi.plugin-state-1``: ``owner.pypi_index`` moves to ``owner.indexes``."""
    adopt_plugin_state(root, "pypi_index", STATE)


def label_index(owner, label: str) -> LabelIndex | None:
    index = owner_index(owner)
    return None if index is None else index.labels.get(label)


def project_index(owner, label: str, project: str) -> ProjectIndex | None:
    index = label_index(owner, label)
    return None if index is None else index.projects.get(project)


def packages_for_project(owner, project: str) -> tuple[str, ...]:
    """Package keys of the owner that hold pypi files of ``project``."""
    index = owner_index(owner)
    return () if index is None else tuple(index.projects.get(project, ()))


# -- records ----------------------------------------------------------------------
def keep_metadata(dist, core) -> StoredMetadata | None:
    """Store what inspection parsed (a CoreMetadata) on the distribution."""
    if core is None:
        return None
    data = core.raw if core.packagetype == "bdist_wheel" else None
    meta = StoredMetadata(data, core.raw_sha256 if data is not None else None, core.requires_python)
    set_dist_extra(dist, STATE, meta)
    return meta


def metadata_of(dist) -> StoredMetadata | None:
    """What is kept of ``dist``'s core metadata, if anything."""
    return dist_extra(dist, STATE)


def forget_metadata(dist) -> None:
    set_dist_extra(dist, STATE, None)


def move_metadata_to_extras(root) -> None:
    """Evolve step ``pypi.distribution-extras-1``: ``dist.pypi_metadata`` of older
    releases moves to ``dist.extras["pypi"]`` (the same object)."""
    adopt_dist_extra(root, LEGACY_METADATA, STATE)


#: where releases before ``Distribution.extras`` kept a file's StoredMetadata
LEGACY_METADATA = "pypi_metadata"


def adopt_mirror_metadata(dist) -> None:
    """A proxied file whose record the mirror engine (``anarepo.sources``) still
    writes as ``dist.pypi_metadata``: moved to ``dist.extras`` as it is published,
    in the same transaction (remove once the engine calls :func:`keep_metadata`)."""
    dist._p_activate()
    meta = dist.__dict__.pop(LEGACY_METADATA, None)
    if meta is not None:
        dist._p_changed = True
        set_dist_extra(dist, STATE, meta)


def stored_metadata(dist) -> StoredMetadata | None:
    """The distribution's stored core metadata: kept at publish time from the
    upload's inspection; read from the blob only for files published without
    inspection."""
    meta = metadata_of(dist)
    if meta is not None:
        return meta
    try:
        with dist.blob.open("r") as fh:
            core = read_metadata(fh.name, dist.basename)
    except (InvalidPackage, OSError):
        return None
    return keep_metadata(dist, core)


class FileRecord(dict):
    """One file's index record: a plain dict that can also be ordered.

    BTree conflict resolution orders the values of keys both sides kept;
    plain dicts cannot be ordered, so two uploads adding different files to one
    project's ``files`` would conflict.  Records never change in place.
    """

    __slots__ = ()

    def __lt__(self, other):
        return repr(sorted(self.items())) < repr(sorted(other.items()))


def comparable_records(root) -> int:
    """Evolve step: store every kept record as a :class:`FileRecord`."""
    count = 0
    for owner in root.owners.values():
        index = owner_index(owner)
        for lindex in index.labels.values() if index is not None else ():
            for pindex in lindex.projects.values():
                for filename, record in list(pindex.files.items()):
                    if type(record) is not FileRecord:
                        pindex.files[filename] = FileRecord(record)
                        count += 1
    return count


def file_record(dist, pkey: str) -> dict:
    """The index record of one file; memoized on the (cached) object while its
    stamp holds, so re-syncing a large package only rebuilds what changed."""
    stamp = (pkey, dist.version, dist.sha256, dist.yanked, dist.upload_time)
    cached = getattr(dist, "_v_pypi_record", None)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    record = _build_record(dist, pkey)
    dist._v_pypi_record = (stamp, record)
    return record


def _build_record(dist, pkey: str) -> dict:
    meta = stored_metadata(dist)
    requires_python = (dist.attrs or {}).get("requires_python") or (meta.requires_python if meta else None)
    return FileRecord({
        "filename": dist.basename,
        "pkey": pkey,
        "version": dist.version,
        "sha256": dist.sha256,
        "size": dist.size,
        "requires_python": requires_python,
        "upload_time": isoformat_z(dist.upload_time),
        "yanked": dist.yanked,
        "metadata_sha256": meta.sha256 if meta is not None else None,
    })


def package_records(package) -> dict[str, dict[str, dict]]:
    """label -> filename -> record for the package's pypi distributions."""
    pkey = package_key(package.name)
    out: dict[str, dict[str, dict]] = {}
    for dist in package.distributions():
        if dist.type != TYPE_NAME or "/" in dist.basename:
            continue
        record = file_record(dist, pkey)
        for label in dist.labels:
            out.setdefault(label, {})[dist.basename] = record
    return out


# -- synchronization ------------------------------------------------------------------
def sync_package(package, removed: bool = False, previous_owner=None) -> None:
    """Bring the index state of ``package`` up to date (see the module docstring)."""
    current = None if removed else package.owner
    if previous_owner is not None and previous_owner is not current:
        _replace(previous_owner, package_key(package.name), None, {}, None)
    if current is not None:
        records = package_records(package)
        if records or owner_index(current) is not None:
            _replace(current, package_key(package.name), normalize(package.name), records, package)


def add_distribution(package, dist) -> bool:
    """The common upload, one new file in a project already indexed in the file's
    labels with the package's current access: add its record alone, instead of
    re-reading every file of the package.  False (nothing written) when any of
    that does not hold; the caller then runs :func:`sync_package`."""
    if dist.type != TYPE_NAME or "/" in dist.basename:
        return False
    index = owner_index(package.owner)
    pkey, project = package_key(package.name), normalize(package.name)
    entry = index.places.get(pkey) if index is not None else None
    if entry is None or entry[0] != project or not set(dist.labels) <= set(entry[1]):
        return False
    pindexes = [project_index(package.owner, label, project) for label in dist.labels]
    if any(p is None or p.access.get(pkey) != package.access or dist.basename in p.files for p in pindexes):
        return False
    record = file_record(dist, pkey)
    for pindex in pindexes:
        pindex.files[dist.basename] = record
        pindex.revision = new_revision()
    return True


def _replace(owner, pkey: str, project: str | None, records: dict, package) -> None:
    index = owner_index(owner, create=bool(records))
    if index is None:
        return
    old_project, old_labels = index.places_of(pkey) or (None, ())
    if not records and old_project is None:
        return
    access = package.access if package is not None else None
    display = package.name if package is not None else None
    for label in sorted(set(old_labels) | set(records)):
        if old_project is not None and old_project != project and label in old_labels:
            _replace_in_label(index, label, old_project, pkey, {}, None, None)
        _replace_in_label(index, label, project, pkey, records.get(label, {}), access, display)
    index.set_places(pkey, (project, tuple(sorted(records))) if records else None)  # unchanged: no write
    for name in {old_project, project} - {None}:
        _set_owner_project(index, name, pkey, bool(records) and name == project)


def _set_owner_project(index: OwnerIndex, project: str, pkey: str, present: bool) -> None:
    keys = set(index.projects.get(project, ()))
    wanted = (keys | {pkey}) if present else (keys - {pkey})
    if wanted != keys:
        if wanted:
            index.projects[project] = tuple(sorted(wanted))
        else:
            del index.projects[project]


def _replace_in_label(index: OwnerIndex, label: str, project: str | None, pkey: str,
                      records: dict, access: str | None, display: str | None) -> None:
    if project is None:
        return
    lindex = index.labels.get(label)
    if lindex is None:
        if not records:
            return
        lindex = index.labels[label] = LabelIndex(label)
    pindex = lindex.projects.get(project)
    if pindex is None:
        if not records:
            return
        pindex = lindex.projects[project] = ProjectIndex(project)
        lindex.bump()
    changed = False
    for filename, record in list(pindex.files.items()):
        if record["pkey"] != pkey:
            continue
        if filename not in records:
            del pindex.files[filename]
            changed = True
    for filename, record in records.items():
        if pindex.files.get(filename) != record:
            pindex.files[filename] = record
            changed = True
    new_access = dict(pindex.access)
    if records:
        new_access[pkey] = access
    else:
        new_access.pop(pkey, None)
    if new_access != pindex.access:
        pindex.access = new_access
        changed = True
    if records and display and pindex.display_name != display:
        pindex.display_name = display
        lindex.bump()
        changed = True
    if changed:
        pindex.revision = new_revision()
    if not pindex.access:
        del lindex.projects[project]
        lindex.set_restricted(project, None)
        lindex.bump()
        if not len(lindex.projects):
            del index.labels[label]
        return
    restricted = tuple(sorted(pindex.access)) if "public" not in pindex.access.values() else None
    if lindex.set_restricted(project, restricted):
        lindex.bump()


def snapshot(owner) -> dict:
    """A plain, comparable picture of the owner's PyPI index state (revisions aside)."""
    index = owner_index(owner)
    if index is None:
        return {}
    labels = {}
    for label, lab in index.labels.items():
        projects = {name: (p.display_name, dict(p.files.items()), dict(p.access))
                    for name, p in lab.projects.items() if len(p.files)}
        if projects:
            labels[label] = {"projects": projects, "restricted": dict(lab.restricted.items())}
    packages = {k: v for k, v in index.places.items() if v}
    projects = {k: v for k, v in index.projects.items() if v}
    return {"packages": packages, "projects": projects, "labels": labels} if labels or packages else {}


def reindex_all(root) -> int:
    """Rebuild the index state of every package holding PyPI files (evolve step,
    and a repair tool); returns how many packages were indexed."""
    count = 0
    for owner in root.owners.values():
        for package in owner.packages.values():
            if TYPE_NAME in package.package_types or owner_index(owner) is not None:
                sync_package(package)
                count += TYPE_NAME in package.package_types
    return count


def name_collisions(root) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(owner, project, package names)`` where several packages of one owner hold
    PyPI files of one PEP 503 project (allowed before names were checked).  They are
    reported, never merged: which files pip should see is the owner's decision."""
    found = []
    for owner in root.owners.values():
        projects: dict[str, list[str]] = {}
        for package in owner.packages.values():
            if TYPE_NAME in package.package_types:
                projects.setdefault(normalize(package.name), []).append(package.name)
        found += [(owner.login, p, tuple(sorted(n))) for p, n in sorted(projects.items()) if len(n) > 1]
    return found


def report_name_collisions(root) -> None:
    """Evolve step: log every PyPI name collision of an older database."""
    for owner, project, packages in name_collisions(root):
        log.warning("PyPI name collision: %s has packages %s for the one project %r; rename or"
                    " remove all but one (anarepo reindex --check lists them)", owner, ", ".join(packages), project)
