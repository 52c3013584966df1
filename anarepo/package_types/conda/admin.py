"""Operator work on conda channels: bulk import of a channel directory, and reindexing.

``import_channel`` loads ``DIR/<subdir>/*.tar.bz2|*.conda`` into an owner's label
through the publishing service as the operator (inspect once, check, publish), in batched
transactions; each package is indexed once per batch (``publishing.batch``).
``reindex`` rebuilds every owner's index state from the stored files and says
whether it equals the incrementally kept state.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from ...plugins.api import (
    CHUNK_SIZE, InvalidPackage, PublishError, blob_tmpdir, check_label, get_db, package_changed, publishing, spool_file,
)
from .inspect import EXTENSIONS, KNOWN_SUBDIRS


@dataclass
class ImportReport:
    published: int = 0
    labelled: int = 0  # already present: the label was added
    skipped: int = 0  # already present with the label
    failed: list = field(default_factory=list)  # (path, message)


def channel_files(directory: str) -> list[tuple[str, str]]:
    """(subdir, path) of every package file in a channel directory, in a stable order."""
    out = []
    for subdir in sorted(os.listdir(directory)):
        path = os.path.join(directory, subdir)
        if subdir not in KNOWN_SUBDIRS or not os.path.isdir(path):
            continue
        for fn in sorted(os.listdir(path)):
            if fn.endswith(EXTENSIONS) and os.path.isfile(os.path.join(path, fn)):
                out.append((subdir, os.path.join(path, fn)))
    return out


def _import_one(registry, owner, ptype, subdir, path, label, access, report):

    fn = os.path.basename(path)
    info = publishing.inspect_upload(ptype, path, f"{subdir}/{fn}", registry=registry)
    package = owner.get_package(info.name)
    release = package.releases.get(info.version) if package is not None else None
    existing = release.files.get(info.basename) if release is not None else None
    if existing is not None:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
                digest.update(chunk)
        if digest.hexdigest() != existing.sha256:
            raise InvalidPackage(f"{info.basename} exists already with different content")
        if label in existing.labels:
            report.skipped += 1
            return
        existing.set_labels(existing.labels + (label,))
        owner.ensure_label(label)
        package_changed(registry, package)
        report.labelled += 1
        return
    spooled = spool_file(path, blob_tmpdir(get_db(registry)), registry.settings["anarepo.max_upload_size"])
    try:
        publishing.publish(owner, spooled, ptype, info, labels=[label], uploader="anarepo-import", access=access,
                operator=registry)
    except BaseException:
        spooled.discard()
        raise
    report.published += 1


def import_channel(registry, directory: str, owner_name: str, label: str = "main", access: str = "public",
                   batch: int = 500, progress=None) -> ImportReport:
    label = check_label(label)
    files = channel_files(directory)
    report = ImportReport()
    ptype = registry.package_types["conda"]
    db = get_db(registry)
    for start in range(0, len(files), batch):
        with db.transaction(f"anarepo import {directory}") as conn:
            root = conn.root()["anarepo"]
            owner = root.get_owner(owner_name)
            if owner is None:
                raise LookupError(f"no owner named {owner_name!r}")
            with publishing.batch(registry, owner):
                for subdir, path in files[start:start + batch]:
                    try:
                        _import_one(registry, owner, ptype, subdir, path, label, access, report)
                    except (InvalidPackage, PublishError, ValueError) as exc:
                        report.failed.append((path, str(exc)))
                    if progress is not None:
                        progress(1)
    return report


def reindex(registry, check_only: bool = False, reinspect: bool = False, progress=None) -> tuple[int, list[str]]:
    """Rebuild the conda index of every owner (see :func:`anarepo.services.reindex.reindex`, which
    rebuilds every type's); returns (packages indexed, owners whose state differed)."""
    from ...plugins.api import reindex as reindex_types

    count, differing = reindex_types(registry, check_only, reinspect, progress, types=("conda",))
    return count, [entry.rsplit(" (", 1)[0] for entry in differing]
