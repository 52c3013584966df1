"""Air-gapped transfer: a mirror's current state as a self-verifying bundle, and back.

``export`` writes ``DIR/files/<sha256>`` (each stored file once) and
``DIR/manifest.json`` (the source's settings without its credential, and per
file: key, file name, package, version, sha256, size, upload time, labels,
yanked, conda patch), then ``DIR/manifest.json.sha256``.  ``import_bundle``
checks the manifest's digest and every file's size and sha256 before anything
is stored, then publishes through the upload path with the original upload
times and patches, so the offline server renders the same repodata and simple
pages byte for byte.  The import keeps a source of the same name (never synced
on the offline side) whose ``files`` make the next import incremental: files
already there are skipped, files gone from the bundle are removed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import datetime

from ..clock import isoformat
from ..db import ROOT_KEY, get_db
from ..storage import CHUNK_SIZE, blob_tmpdir, spool_file
from .model import SourceError
from .sync import Run, find_source

FORMAT = "anarepo-mirror-bundle/1"


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_bundle(registry, owner_name: str, source_name: str, directory: str, progress=None) -> int:
    """Write the bundle; return how many files it holds (proxied files not fetched yet are left out)."""
    os.makedirs(os.path.join(directory, "files"), exist_ok=True)
    entries = []
    with get_db(registry).transaction() as conn:
        owner, source = find_source(conn.root()[ROOT_KEY], owner_name, source_name)
        settings = {k: v for k, v in source.describe().items() if k not in ("files", "last_run", "auth", "created")}
        for key, entry in source.files.items():
            package = owner.get_package(entry[0])
            release = package.releases.get(entry[1]) if package is not None else None
            dist = release.files.get(entry[2]) if release is not None else None
            if dist is None or dist.upstream is not None or dist.sha256 != entry[3]:
                continue
            target = os.path.join(directory, "files", dist.sha256)
            if not os.path.exists(target):
                shutil.copyfile(dist.blob.committed(), target + ".part")
                os.replace(target + ".part", target)
            entries.append({"key": key, "filename": dist.basename, "package": package.name, "version": dist.version,
                            "sha256": dist.sha256, "size": dist.size, "upload_time": isoformat(dist.upload_time),
                            "yanked": dist.yanked, "patch": dict(entry[4]) if len(entry) > 4 else {}})
            if progress is not None:
                progress(1)
    manifest = json.dumps({"format": FORMAT, "owner": owner_name, "source": settings, "files": entries},
                          indent=1, sort_keys=True).encode()
    with open(os.path.join(directory, "manifest.json"), "wb") as f:
        f.write(manifest)
    with open(os.path.join(directory, "manifest.json.sha256"), "w") as f:
        f.write(hashlib.sha256(manifest).hexdigest() + "  manifest.json\n")
    return len(entries)


def read_manifest(directory: str) -> dict:
    """The verified manifest; every listed file present with its size and sha256."""
    try:
        with open(os.path.join(directory, "manifest.json"), "rb") as f:
            raw = f.read()
        with open(os.path.join(directory, "manifest.json.sha256")) as f:
            expected = f.read().split()[0]
    except (OSError, IndexError):
        raise SourceError(f"{directory} is not a mirror bundle (manifest.json and its .sha256 needed)") from None
    if hashlib.sha256(raw).hexdigest() != expected:
        raise SourceError("manifest.json does not match its sha256: the bundle is damaged")
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise SourceError("manifest.json is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SourceError(f"unknown bundle format {manifest.get('format') if isinstance(manifest, dict) else None!r}")
    source, files = manifest.get("source"), manifest.get("files")
    if (not isinstance(source, dict) or not all(isinstance(source.get(k), str) for k in ("name", "kind", "url", "label"))
            or not isinstance(files, list) or not all(_entry_ok(entry) for entry in files)):
        raise SourceError("manifest.json is malformed")
    for entry in files:
        path = os.path.join(directory, "files", entry["sha256"])
        if not os.path.isfile(path) or os.path.getsize(path) != entry["size"] or _sha256(path) != entry["sha256"]:
            raise SourceError(f"{entry['filename']}: missing or damaged in the bundle")
    return manifest


def _entry_ok(entry) -> bool:
    """One file of the manifest, of the shape export writes.  Its digest only proves the
    bundle is whole, not where it came from: the sha256 names a file under ``files/``
    (hex only, no path), and a patch may only carry what upstream patches may."""
    from .upstream import patch_ok

    if not isinstance(entry, dict):
        return False
    patch, yanked, upload_time = entry.get("patch"), entry.get("yanked"), entry.get("upload_time")
    try:
        datetime.fromisoformat(upload_time)
    except (TypeError, ValueError):
        return False
    return (all(isinstance(entry.get(k), str) for k in ("key", "filename", "sha256"))
            and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) is not None
            and isinstance(entry.get("size"), int) and not isinstance(entry["size"], bool) and entry["size"] >= 0
            and (yanked is None or isinstance(yanked, str))
            and patch_ok(patch))


def import_bundle(registry, directory: str, owner_name: str, label: str | None = None, progress=None) -> dict:
    """Load a verified bundle into ``owner_name`` (the label of the bundle unless ``label``)."""
    from .filters import Filters
    from .service import add_source
    from .sync import SourceView, _publish_batch, _remove_and_patch
    from .upstream import Want

    manifest = read_manifest(directory)
    settings = manifest["source"]
    label = label or settings["label"]
    run = Run(settings["name"], "import")
    db = get_db(registry)
    with db.transaction(f"anarepo mirror import {owner_name}/{settings['name']}") as conn:
        owner = conn.root()[ROOT_KEY].get_owner(owner_name)
        if owner is None:
            raise SourceError(f"no owner named {owner_name!r}")
        source = owner.sources.get(settings["name"])
        if source is None:
            source = add_source(owner, settings["name"], settings["kind"], settings["url"], registry=registry,
                                mode="mirror",
                                label=label, subdirs=settings.get("subdirs") or (),
                                filters=settings.get("filters") or {},
                                merge_local=settings.get("merge_local") is True)
        view = SourceView(owner.login, source.name, source.kind, "mirror", source.url, label, source.subdirs,
                          Filters.parse(source.filters, source.kind), True, (), ("none", "", ""),
                          {}, source.merge_local)
        known = dict(source.files.items())  # a bundle is the whole state: every entry is compared
    wanted = {entry["key"]: entry for entry in manifest["files"]}
    tmpdir = blob_tmpdir(db)
    max_size = int(registry.settings["anarepo.max_upload_size"])
    items = [(k, e) for k, e in sorted(wanted.items()) if k not in known or known[k][3] != e["sha256"]]
    for start in range(0, len(items), 100):
        batch = []
        for key, entry in items[start:start + 100]:
            spooled = spool_file(os.path.join(directory, "files", entry["sha256"]), tmpdir, max_size)
            want = Want("", entry["filename"], entry["sha256"], entry["size"], entry["patch"], entry["yanked"],
                        upload_time=entry["upload_time"])
            batch.append((key, want, spooled))
        _publish_batch(registry, view, batch, run, progress)
    gone = [key for key in known if key not in wanted]
    _remove_and_patch(registry, view, gone, {}, run)
    with db.transaction() as conn:
        _, source = find_source(conn.root()[ROOT_KEY], owner_name, view.name)
        source.record_run(run.as_dict())
    return run.as_dict()
