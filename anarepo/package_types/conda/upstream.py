"""The conda type's upstream records (mirrors and proxies of conda channels,
``anarepo.sources``): an upstream repodata record is listed only when an upload's
``info/index.json`` with the same fields would be accepted, a proxied file is served
with the record's known fields (of the right types) before its bytes are here, and
once they are, the file's own ``index.json`` replaces them except for the fields the
upstream's repodata patches change."""
from __future__ import annotations

import re

from ...plugins.api import Conflict, InvalidPackage, UpstreamRecords
from .inspect import KNOWN_SUBDIRS, validate_index

#: conda record fields and the types a proxied record may carry for them.
FIELD_TYPES = {"arch": str, "build": str, "build_number": int, "constrains": list, "depends": list,
               "features": str, "license": str, "license_family": str, "name": str, "noarch": str,
               "platform": str, "python_site_packages_path": str, "subdir": str, "timestamp": int,
               "track_features": str, "version": str}
#: record fields upstream repodata patches may change; they override the file's own.
PATCHABLE = ("depends", "constrains", "track_features", "license", "license_family")


def clean_record(record: dict) -> dict:
    """Only the known conda fields, each of its expected type (lists of strings)."""
    out = {}
    for key, kind in FIELD_TYPES.items():
        value = record.get(key)
        if isinstance(value, kind) and not isinstance(value, bool):
            if kind is list and not all(isinstance(v, str) for v in value):
                continue
            out[key] = value
    return out


class CondaUpstreamRecords(UpstreamRecords):
    scopes = frozenset(KNOWN_SUBDIRS)
    def record_ok(self, record: dict, scope: str, filename: str) -> bool:
        try:
            validate_index({**record, "subdir": scope}, f"{scope}/{filename}")
        except InvalidPackage:
            return False
        return True

    def place(self, dist, want) -> None:
        basename = dist.basename
        attrs = clean_record(want.record)
        attrs.update(clean_record(want.patch))
        attrs["subdir"] = basename.split("/", 1)[0]
        if attrs.get("name") != want.name or attrs.get("version") != want.version or "build" not in attrs:
            raise Conflict(f"{basename}: the upstream record does not name this file")
        # served to clients before its bytes are here: the rules of an upload's index.json
        dist.attrs = validate_index(attrs, basename)
        md5 = want.record.get("md5")
        dist.md5 = md5.lower() if isinstance(md5, str) and re.fullmatch(r"[0-9a-fA-F]{32}", md5) else ""

    def fetched(self, dist, info) -> None:
        patched = {k: dist.attrs[k] for k in PATCHABLE if k in dist.attrs}
        dist.attrs = {**info.attrs, **patched}
