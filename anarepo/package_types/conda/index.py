"""Per-package conda index state in ZODB, updated in the transaction that changed the package.

Shape (one :class:`CondaChannel` per owner, kept as ``owner.indexes["conda"]``)::

    CondaChannel.labels    label -> LabelIndex
                 .places   package key -> ((label, subdir, name), ...)   where a package has records
    LabelIndex.subdirs     subdir -> SubdirIndex
              .channeldata name -> (JSON fragment, subdirs)               CEP 38, per package
              .restricted  name -> package key                            non-public packages
              .revision    Revision
    SubdirIndex.buckets    name -> Bucket (records, file locations, shards)
               .frags      name -> JSON fragments (see render.fragments)
               .shard_hashes name -> sha256 of the current shard
               .shard_entries name -> that pair msgpack-encoded (render.shard_entry)
               .by_hash    shard hex -> name (current and a few previous shards)
               .restricted name -> package key
               .revision   Revision (conflict-free counter + time of change)

:func:`update_package` recomputes the records of ONE package from its
Distributions and writes only what changed; nothing walks a channel.  BTrees
resolve concurrent writes to different names, and :class:`Revision` resolves
concurrent bumps, so uploads of different packages do not conflict.
"""
from __future__ import annotations

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ...plugins.api import (
    IndexRoot, IndexSkeleton, Revision, adopt_plugin_state, clock, package_key, plugin_state, version_key,
)
from . import render
from .inspect import timestamp_ms

#: Superseded shards answer this long after they were replaced: a client holding a
#: shard index may use it for its max-age (``anarepo.conda.max_age``, which may not
#: exceed this) whatever the number of uploads meanwhile.
KEEP_SHARDS_SECONDS = 3600


# Revision moved to the core's index skeleton (anarepo.resources.indexes); the name
# imported above keeps pickles that name anarepo.package_types.conda.index.Revision loading.


class Bucket(Persistent):
    """The records of one package name in one (label, subdir)."""


    def __init__(self, name: str, key: str):
        self.name = name
        self.package_key = key
        self.records = {}  # fn -> record (hex hashes)
        self.removed = ()  # yanked fns
        self.locations = {}  # fn -> (version, basename)
        self.run_exports = {}  # fn -> run_exports
        self.shards = {}  # hex -> compressed shard bytes
        self.shard_hex = ""
        self.superseded = {}  # hex -> time it stopped being current


def bump(index, public: bool) -> None:
    """Count a change of ``index``; ``public``: an anonymous reader sees it too.

    The anonymous documents' validators (ETag, Last-Modified) follow
    ``public_revision`` alone, so they change only when what an anonymous reader
    sees changes (an upload of a private package leaves them as they were)."""
    index.bump(public)


class SubdirIndex(IndexSkeleton):
    """One (label, subdir): the skeleton (revision, restricted names → package key) and records."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.buckets = OOBTree()
        self.frags = OOBTree()
        self.shard_hashes = OOBTree()
        self.shard_entries = OOBTree()
        self.by_hash = OOBTree()


class LabelIndex(IndexSkeleton):
    """One label: the skeleton (for channeldata.json) and its subdirs."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.subdirs = OOBTree()
        self.channeldata = OOBTree()


class CondaChannel(IndexRoot):
    """An owner's channel: places (package key → (label, subdir, name) triples) and labels."""

    def __init__(self):
        super().__init__()
        self.labels = OOBTree()


STATE = "conda"  # the key of a channel's state in Owner.indexes


def get_channel(owner, create: bool = False) -> CondaChannel | None:
    return plugin_state(owner, STATE, CondaChannel if create else None)


def move_to_plugin_state(root) -> None:
    """Evolve step ``conda.plugin-state-1``: ``owner.conda_channel`` moves to ``owner.indexes``."""
    adopt_plugin_state(root, "conda_channel", STATE)


def complete_index_fields(root) -> None:
    """Evolve step ``conda.index-fields-1``: indexes written by older releases get
    the fields today's constructors make, so no code path heals them on a write.

    * ``public_revision`` of a label or subdir index starts where its revision
      is (the public documents keep their Last-Modified);
    * a subdir's pre-encoded ``shard_entries`` are encoded from ``shard_hashes``;
    * a bucket's superseded shards count from now (``superseded``).
    """
    now = clock.epoch()
    for owner in root.owners.values():
        channel = get_channel(owner)
        for lab in channel.labels.values() if channel is not None else ():
            _add_public_revision(lab)
            for sub in lab.subdirs.values():
                _add_public_revision(sub)
                if _lacks(sub, "shard_entries"):
                    sub.shard_entries = OOBTree({name: render.shard_entry(name, digest)
                                                 for name, digest in sub.shard_hashes.items()})
                for bucket in sub.buckets.values():
                    if _lacks(bucket, "superseded"):
                        bucket.superseded = {h: now for h in bucket.shards if h != bucket.shard_hex}


def _lacks(obj, name: str) -> bool:
    obj._p_activate()
    return obj.__dict__.get(name) is None


def _add_public_revision(index) -> None:
    if _lacks(index, "public_revision"):
        index.public_revision = Revision()
        index.public_revision.counter = index.revision.counter
        index.public_revision.mtime = index.revision.mtime


def label_index(channel, label: str, create: bool = False) -> LabelIndex | None:
    lab = channel.labels.get(label) if channel is not None else None
    if lab is None and create:
        lab = channel.labels[label] = LabelIndex(label)
    return lab


def subdir_index(lab, subdir: str, create: bool = False) -> SubdirIndex | None:
    sub = lab.subdirs.get(subdir) if lab is not None else None
    if sub is None and create:
        sub = lab.subdirs[subdir] = SubdirIndex(subdir)
    return sub


# -- records -------------------------------------------------------------------
def ensure_attrs(dist) -> dict:
    """The validated metadata of a conda Distribution; read from its blob if an
    upload path stored none (e.g. a plain ``publish()`` without inspection)."""
    attrs = dist.attrs or {}
    if "build" in attrs and "subdir" in attrs:
        return attrs
    from .inspect import inspect_package

    with dist.blob.open("r") as f:
        info = inspect_package(f.name, dist.basename, now_ms=2**62)
    dist.attrs = dict(info.attrs)
    return dist.attrs


def record_for(dist) -> tuple[str, dict]:
    from .inspect import RECORD_FIELDS

    attrs = ensure_attrs(dist)
    rec = {k: attrs[k] for k in RECORD_FIELDS if k in attrs}
    rec["depends"] = list(attrs.get("depends", ()))
    rec["md5"] = dist.md5
    rec["sha256"] = dist.sha256
    rec["size"] = dist.size
    rec["indexed_timestamp"] = int(dist.upload_time.timestamp() * 1000)
    return dist.basename.rsplit("/", 1)[-1], rec


# -- updates -----------------------------------------------------------------------
def _set_bucket(sub: SubdirIndex, name: str, key: str, dists, restricted: bool) -> bool:
    records, locations, run_exports, removed = {}, {}, {}, []
    for dist in dists:
        fn, rec = record_for(dist)
        locations[fn] = (dist.version, dist.basename)
        if dist.yanked is not None:
            removed.append(fn)
            continue
        if dist.attrs.get("run_exports"):
            run_exports[fn] = dist.attrs["run_exports"]
            rec["run_exports"] = dist.attrs["run_exports"]  # as rattler-index writes it (CEP 21)
        records[fn] = rec
    removed = tuple(sorted(removed))
    bucket = sub.buckets.get(name)
    was_restricted = name in sub.restricted
    public_change = not restricted or (bucket is not None and not was_restricted)
    frags = render.fragments(records, removed)
    if (
        bucket is not None
        and sub.frags.get(name) == frags
        and bucket.records == records
        and bucket.removed == removed
        and bucket.locations == locations
        and bucket.run_exports == run_exports
        and was_restricted == restricted
    ):
        return False
    if bucket is None:
        bucket = sub.buckets[name] = Bucket(name, key)
    bucket.package_key = key
    bucket.records, bucket.removed, bucket.locations, bucket.run_exports = records, removed, locations, run_exports
    sub.frags[name] = frags
    data = render.shard(records, removed, run_exports)
    digest = render.shard_hash(data)
    if digest.hex() != bucket.shard_hex:
        shards, superseded = _keep_shards(sub, bucket, name)
        shards[digest.hex()] = data
        bucket.shards, bucket.shard_hex, bucket.superseded = shards, digest.hex(), superseded
        sub.by_hash[digest.hex()] = name
        sub.shard_hashes[name] = digest
        sub.shard_entries[name] = render.shard_entry(name, digest)
    sub.set_restricted(name, key if restricted else None)
    bump(sub, public_change)
    return True


def _keep_shards(sub: SubdirIndex, bucket: Bucket, name: str) -> tuple[dict, dict]:
    """The shards to keep beside a new current one: the one it replaces and those
    replaced less than KEEP_SHARDS_SECONDS ago."""
    now = clock.epoch()
    superseded = dict(bucket.superseded)
    shards = {}
    for hexdigest, data in bucket.shards.items():
        since = superseded.setdefault(hexdigest, now) if hexdigest != bucket.shard_hex else now
        if now - since <= KEEP_SHARDS_SECONDS:
            shards[hexdigest] = data
            superseded[hexdigest] = since
        else:
            superseded.pop(hexdigest, None)
            if sub.by_hash.get(hexdigest) == name:
                del sub.by_hash[hexdigest]
    return shards, superseded


def _drop_bucket(sub: SubdirIndex, name: str) -> bool:
    bucket = sub.buckets.get(name)
    if bucket is None:
        return False
    del sub.buckets[name]
    public_change = name not in sub.restricted
    for tree in (sub.frags, sub.shard_hashes, sub.shard_entries, sub.restricted):
        if name in tree:
            del tree[name]
    for old in bucket.shards:
        if sub.by_hash.get(old) == name:
            del sub.by_hash[old]
    bump(sub, public_change)
    return True


CHANNELDATA_ABOUT = ("description", "dev_url", "doc_url", "home", "license", "license_family", "source_url", "summary")


def _channeldata_entry(package, dists) -> tuple[bytes, tuple]:
    by_version = {}
    subdirs, flags, timestamp = set(), {}, 0
    for dist in dists:
        attrs = dist.attrs
        subdirs.add(attrs["subdir"])
        by_version.setdefault(dist.version, []).append(dist)
        timestamp = max(timestamp, timestamp_ms(attrs.get("timestamp", 0)) // 1000)  # seconds, as conda-index
        for flag, value in (attrs.get("channeldata") or {}).items():
            flags[flag] = flags.get(flag, False) or bool(value)
    latest = max(by_version, key=version_key)
    newest = max(by_version[latest], key=lambda d: (timestamp_ms(d.attrs.get("timestamp", 0)), d.basename))
    about = dict(newest.attrs.get("about") or {})
    for field in CHANNELDATA_ABOUT:
        if not about.get(field) and getattr(package, field, ""):
            about[field] = getattr(package, field)
    rec = {k: about[k] for k in CHANNELDATA_ABOUT if about.get(k)}
    rec.update(flags)
    rec["run_exports"] = {
        v: next((d.attrs["run_exports"] for d in ds if d.attrs.get("run_exports")), {})
        for v, ds in sorted(by_version.items())
        if any(d.attrs.get("run_exports") for d in ds)
    }
    rec["subdirs"] = sorted(subdirs)
    rec["timestamp"] = timestamp
    rec["version"] = latest
    name = newest.attrs["name"]
    return render.entry(name, rec), tuple(sorted(subdirs))


def _set_channeldata(lab: LabelIndex, name: str, key: str, package, dists, restricted: bool) -> bool:
    live = [d for d in dists if d.yanked is None]
    existed, was_restricted = name in lab.channeldata, name in lab.restricted
    if not live:
        if not existed:
            return False
        del lab.channeldata[name]
        if was_restricted:
            del lab.restricted[name]
        bump(lab, not was_restricted)
        return True
    value = _channeldata_entry(package, live)
    if lab.channeldata.get(name) == value and was_restricted == restricted:
        return False
    lab.channeldata[name] = value
    lab.set_restricted(name, key if restricted else None)
    bump(lab, not restricted or (existed and not was_restricted))
    return True


def update_package(owner, package) -> int:
    """Bring the records of one package in ``owner``'s channel up to date; return
    how many (label, subdir) buckets changed."""
    key = package_key(package.name)
    groups: dict[tuple, list] = {}
    for dist in package.distributions():
        if dist.type != "conda":
            continue
        attrs = ensure_attrs(dist)
        for label in dist.labels:
            groups.setdefault((label, attrs["subdir"], attrs["name"]), []).append(dist)
    channel = get_channel(owner, create=bool(groups))
    if channel is None:
        return 0
    old = set(channel.places.get(key, ()))
    if not groups and not old:
        return 0
    restricted = package.access != "public"
    changed = 0
    for label, subdir, name in old - set(groups):
        sub = subdir_index(label_index(channel, label), subdir)
        if sub is not None:
            changed += _drop_bucket(sub, name)
    by_label: dict[tuple, list] = {}
    for (label, subdir, name), dists in sorted(groups.items()):
        sub = subdir_index(label_index(channel, label, create=True), subdir, create=True)
        changed += _set_bucket(sub, name, key, dists, restricted)
        by_label.setdefault((label, name), []).extend(dists)
    for label, _, name in old:
        by_label.setdefault((label, name), [])
    for (label, name), dists in by_label.items():
        lab = label_index(channel, label, create=bool(dists))
        if lab is not None:
            _set_channeldata(lab, name, key, package, dists, restricted)
    channel.set_places(key, tuple(sorted(groups)))
    return changed


def drop_package(owner, key: str) -> int:
    """Remove every record of package ``key`` from ``owner``'s channel (deleted or moved away)."""
    channel = get_channel(owner)
    if channel is None or key not in channel.places:
        return 0
    changed = 0
    for label, subdir, name in channel.places[key]:
        lab = label_index(channel, label)
        sub = subdir_index(lab, subdir)
        if sub is not None:
            changed += _drop_bucket(sub, name)
        if lab is not None and name in lab.channeldata:
            del lab.channeldata[name]
            was_restricted = name in lab.restricted
            if was_restricted:
                del lab.restricted[name]
            bump(lab, not was_restricted)
    del channel.places[key]
    return changed


def rebuild_all(root) -> None:
    """Bring every owner's channel up to date with today's rules (an evolve step):
    in place, so that only documents whose content changes get a new revision."""
    for owner in root.owners.values():
        if get_channel(owner) is None:
            continue
        for package in owner.packages.values():
            if "conda" in package.package_types:
                update_package(owner, package)


# -- comparison (reindex proves the incremental state) -------------------------------
def snapshot(channel) -> dict:
    """A plain, comparable picture of a channel's index state (revisions aside)."""
    if channel is None:
        return {}
    out = {"places": dict(channel.places.items()), "labels": {}}
    for label, lab in channel.labels.items():
        subdirs = {}
        for subdir, sub in lab.subdirs.items():
            if not len(sub.buckets):
                continue
            subdirs[subdir] = {
                "frags": dict(sub.frags.items()),
                "shards": dict(sub.shard_hashes.items()),
                "restricted": dict(sub.restricted.items()),
                "locations": {n: b.locations for n, b in sub.buckets.items()},
            }
        if subdirs or len(lab.channeldata):
            out["labels"][label] = {
                "subdirs": subdirs,
                "channeldata": dict(lab.channeldata.items()),
                "restricted": dict(lab.restricted.items()),
            }
    return out
