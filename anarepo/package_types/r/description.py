"""Debian-control (DCF) parsing for R's DESCRIPTION and writing for PACKAGES."""
from __future__ import annotations

from ...plugins.api import InvalidPackage

MAX_FIELDS = 200

#: The fields CRAN puts in PACKAGES, in order.
PACKAGES_FIELDS = (
    "Package", "Version", "Priority", "Depends", "Imports", "LinkingTo", "Suggests", "Enhances",
    "License", "License_is_FOSS", "License_restricts_use", "OS_type", "Archs", "MD5sum", "NeedsCompilation",
)


def parse_dcf(text: str, filename: str) -> dict:
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t":
            if key is None:
                raise InvalidPackage(f"{filename}: malformed DESCRIPTION")
            fields[key] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or " " in name:
            raise InvalidPackage(f"{filename}: malformed DESCRIPTION line {line[:60]!r}")
        key = name.strip()
        fields[key] = value.strip()
        if len(fields) > MAX_FIELDS:
            raise InvalidPackage(f"{filename}: DESCRIPTION has too many fields")
    return fields


def packages_entry(attrs: dict, package: str, version: str, md5: str) -> str:
    """One stanza of a PACKAGES file."""
    values = dict(attrs)
    values.update({"Package": package, "Version": version, "MD5sum": md5})
    lines = []
    for field in PACKAGES_FIELDS:
        value = values.get(field)
        if value:
            lines.append(f"{field}: {' '.join(str(value).split())}")
    return "\n".join(lines) + "\n"
