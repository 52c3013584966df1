"""Reading conda packages safely: metadata from the archive, never trusted, never on disk.

``.tar.bz2`` and ``.conda`` archives are streamed with conda-package-streaming;
only ``info/`` members are read, each with a size limit, and nothing is
extracted.  ``info/index.json`` is validated field by field (it becomes a
repodata record that every conda client parses), the file name must be the one
the metadata implies, the subdir must be one conda knows, and a build
``timestamp`` in the future is refused (CEP 47).  Every failure is an
:class:`InvalidPackage` with a message for the uploader (a 400 answer).
"""
from __future__ import annotations

import re
import time
import zipfile

from ...plugins.api import (
    LINK_FIELDS, MAX_DESCRIPTION, BudgetExceeded, FileInfo, InvalidPackage, check_link, loads_json, work_budget,
)

EXTENSIONS = (".tar.bz2", ".conda")

#: conda 26.7's known subdirs (conda/base/constants.py).
KNOWN_SUBDIRS = frozenset(
    """noarch emscripten-wasm32 wasi-wasm32 freebsd-64 linux-32 linux-64 linux-aarch64
    linux-armv6l linux-armv7l linux-ppc64 linux-ppc64le linux-riscv64 linux-s390x
    osx-64 osx-arm64 win-32 win-64 win-arm64 zos-z""".split()
)

_CONTROL = re.compile(r"[\x00-\x1f]")  # what the record fields may not hold (a regex: mirrors check millions)
NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,127}$")
VERSION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+!*]{0,127}$")
BUILD_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+]{0,127}$")

#: Size limits of the metadata members read from an archive.
LIMITS = {
    "info/index.json": 256 * 1024,
    "info/about.json": 1024 * 1024,
    "info/run_exports.json": 256 * 1024,
    # parsed with an object hook that keeps only what channeldata needs
    "info/paths.json": 16 * 1024 * 1024,
}
MAX_SPECS = 4096
MAX_SPEC_LEN = 1024
MAX_TEXT = 4096
#: Build clocks may run a little ahead of ours.
FUTURE_SKEW_MS = 5 * 60 * 1000

#: index.json fields copied into repodata records (rattler's PackageRecord fields).
RECORD_FIELDS = (
    "arch", "build", "build_number", "constrains", "depends", "extra_depends", "features", "flags",
    "license", "license_family", "name", "noarch", "platform", "purls", "python_site_packages_path",
    "subdir", "timestamp", "track_features", "version",
)
MAX_EXTRA_GROUPS = 256
#: build timestamps below this are seconds (old conda-build): conda-index's rule
SECONDS_BELOW = 253402300799
RUN_EXPORT_KEYS = ("weak", "strong", "noarch", "weak_constrains", "strong_constrains")
ABOUT_FIELDS = ("summary", "description", "home", "dev_url", "doc_url", "license", "license_family",
                "license_url", "source_url")


def split_extension(filename: str) -> tuple[str, str]:
    for ext in EXTENSIONS:
        if filename.endswith(ext):
            return filename[: -len(ext)], ext
    raise InvalidPackage(f"{filename}: conda packages end in .tar.bz2 or .conda")


def looks_like_conda(filename: str, path) -> bool:
    """Cheap detection by name and magic bytes (no decompression)."""
    name = filename.rsplit("/", 1)[-1]
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    if name.endswith(".tar.bz2"):
        return head.startswith(b"BZh")
    if name.endswith(".conda"):
        return head == b"PK\x03\x04"
    return False


# -- reading the archive -------------------------------------------------------
def _read_member(tar, member, limit: int, filename: str) -> bytes:
    if not member.isfile():
        raise InvalidPackage(f"{filename}: {member.name} is not a regular file")
    if member.size > limit:
        raise BudgetExceeded(f"{filename}: {member.name} is too large ({member.size} bytes, limit {limit})")
    handle = tar.extractfile(member)
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise BudgetExceeded(f"{filename}: {member.name} is too large (limit {limit} bytes)")
    return data


def _conda_info_stream(fileobj, filename: str, budget):
    """The info tarball of a .conda archive, whatever stem its components carry."""
    from conda_package_streaming.package_streaming import tar_generator, zstd

    if not zipfile.is_zipfile(fileobj):
        raise InvalidPackage(f"{filename}: not a valid .conda archive (not a zip file)")
    fileobj.seek(0)
    zf = zipfile.ZipFile(fileobj)
    for _ in zf.infolist():
        budget.charge_member(filename)
    infos = [i for i in zf.infolist() if i.filename.startswith("info-") and i.filename.endswith(".tar.zst")]
    if len(infos) != 1:
        raise InvalidPackage(f"{filename}: a .conda archive holds exactly one info-*.tar.zst component")
    stem = filename[: -len(".conda")]
    if infos[0].filename != f"info-{stem}.tar.zst":
        raise InvalidPackage(
            f"the file name {filename!r} does not match the archive's components ({infos[0].filename!r})"
        )
    return tar_generator(budget.reader(zstd.open(zf.open(infos[0])), filename))


def _tar_bz2_stream(fileobj, filename: str, budget):
    """Every member of a .tar.bz2 (info/ comes first), decompressed under the budget:
    a few kilobytes of bzip2 can hold gigabytes of zeros before info/."""
    import bz2

    from conda_package_streaming.package_streaming import tar_generator

    return tar_generator(budget.reader(bz2.BZ2File(fileobj), filename))


def read_info(path, filename: str) -> dict[str, bytes]:
    """The metadata members we use, as bytes, streamed from the archive."""
    import os

    wanted = set(LIMITS)
    found: dict[str, bytes] = {}
    _, ext = split_extension(filename)
    budget = work_budget(os.path.getsize(path))
    try:
        with open(path, "rb") as fileobj:
            opener = _conda_info_stream if ext == ".conda" else _tar_bz2_stream
            stream = opener(fileobj, filename, budget)
            try:
                for tar, member in stream:
                    budget.charge_member(filename)
                    name = member.name[2:] if member.name.startswith("./") else member.name
                    if name in wanted and name not in found:
                        found[name] = _read_member(tar, member, LIMITS[name], filename)
                    elif not name.startswith("info/") and "info/index.json" in found and ext == ".tar.bz2":
                        break  # info/ comes first in .tar.bz2 built by conda-build and rattler-build
            finally:
                stream.close()
    except InvalidPackage:
        raise
    except Exception as exc:  # tar, zip, bz2 and zstd decoders raise many kinds of errors
        raise InvalidPackage(f"{filename}: not a valid conda package ({exc.__class__.__name__}: {exc})") from exc
    if "info/index.json" not in found:
        raise InvalidPackage(f"{filename}: the archive has no info/index.json")
    return found


def _json(data: bytes, member: str, filename: str):
    try:
        value = loads_json(data, what=member)
    except (UnicodeDecodeError, ValueError) as exc:  # json's errors and Unbounded
        raise InvalidPackage(f"{filename}: {member} is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InvalidPackage(f"{filename}: {member} must hold a JSON object")
    return value


# -- validation ---------------------------------------------------------------
def _text(value, field: str, filename: str, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InvalidPackage(f"{filename}: info/index.json has no {field!r}")
        return None
    if not isinstance(value, str):
        raise InvalidPackage(f"{filename}: {field!r} in info/index.json must be a string")
    if len(value) > limit or _CONTROL.search(value):
        raise InvalidPackage(f"{filename}: {field!r} in info/index.json is too long or has control characters")
    return value


def _specs(value, field: str, filename: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SPECS:
        raise InvalidPackage(f"{filename}: {field!r} in info/index.json must be a list of at most {MAX_SPECS} strings")
    out = []
    for spec in value:
        if not isinstance(spec, str) or not spec.strip() or len(spec) > MAX_SPEC_LEN or _CONTROL.search(spec):
            raise InvalidPackage(f"{filename}: invalid {field} entry {spec!r} in info/index.json")
        out.append(spec)
    return out


def check_prefix_relative(path: str, filename: str) -> None:
    """CEP-17: ``python_site_packages_path`` is a relative path inside the prefix
    (a client writes the package's Python files there)."""
    import posixpath

    normalized = posixpath.normpath(path.replace("\\", "/"))
    if (path.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", path) or normalized in (".", "")
            or normalized == ".." or normalized.startswith("../")):
        raise InvalidPackage(
            f"{filename}: python_site_packages_path must be a relative path inside the prefix, not {path!r}"
        )


def validate_index(index: dict, filename: str, now_ms: int | None = None) -> dict:
    """A clean repodata record (without hashes) from index.json, or InvalidPackage."""
    rec: dict = {}
    name = _text(index.get("name"), "name", filename, 128, required=True)
    if not NAME_RE.fullmatch(name):
        raise InvalidPackage(f"{filename}: invalid package name {name!r} (lower-case letters, digits, '_', '.', '-')")
    version = _text(index.get("version"), "version", filename, 128, required=True)
    if not VERSION_RE.fullmatch(version):
        raise InvalidPackage(f"{filename}: invalid version {version!r}")
    build = _text(index.get("build"), "build", filename, 128, required=True)
    if not BUILD_RE.fullmatch(build):
        raise InvalidPackage(f"{filename}: invalid build string {build!r}")
    build_number = index.get("build_number", 0)
    if isinstance(build_number, bool) or not isinstance(build_number, int) or not 0 <= build_number < 2**31:
        raise InvalidPackage(f"{filename}: build_number must be a non-negative integer")
    subdir = _text(index.get("subdir"), "subdir", filename, 32, required=True)
    if subdir not in KNOWN_SUBDIRS:
        raise InvalidPackage(f"{filename}: unknown subdir {subdir!r}; known: {', '.join(sorted(KNOWN_SUBDIRS))}")
    rec.update(name=name, version=version, build=build, build_number=build_number, subdir=subdir)
    rec["depends"] = _specs(index.get("depends"), "depends", filename)
    constrains = _specs(index.get("constrains"), "constrains", filename)
    if constrains:
        rec["constrains"] = constrains
    noarch = index.get("noarch")
    if noarch is True:  # conda-build < 3 wrote a boolean
        noarch = "generic"
    if noarch not in (None, False, "generic", "python"):
        raise InvalidPackage(f"{filename}: noarch must be 'generic' or 'python', not {noarch!r}")
    if noarch:
        if subdir != "noarch":
            raise InvalidPackage(f"{filename}: a noarch package must have subdir 'noarch', not {subdir!r}")
        rec["noarch"] = noarch
    timestamp = index.get("timestamp")
    if timestamp is not None:
        if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)) or not 0 <= timestamp < 2**62:
            raise InvalidPackage(f"{filename}: timestamp must be a number of milliseconds")
        timestamp = int(timestamp)  # kept as written, seconds or milliseconds, as conda-index does
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        if timestamp_ms(timestamp) > now_ms + FUTURE_SKEW_MS:
            raise InvalidPackage(f"{filename}: the build timestamp {timestamp} is in the future")
        rec["timestamp"] = timestamp
    for field in ("license", "license_family", "arch", "platform", "python_site_packages_path"):
        value = _text(index.get(field), field, filename)
        if value:
            rec[field] = value
    if "python_site_packages_path" in rec:
        check_prefix_relative(rec["python_site_packages_path"], filename)
    rec.update(_extensions(index, filename))
    for field in ("track_features", "features"):
        value = index.get(field)
        if isinstance(value, list):
            value = " ".join(_specs(value, field, filename))
        value = _text(value, field, filename)
        if value:
            rec[field] = value
    return rec


def timestamp_ms(timestamp: int) -> int:
    """A build timestamp in milliseconds, whether it was written in seconds or not."""
    return timestamp * 1000 if timestamp < SECONDS_BELOW else timestamp


def _extensions(index: dict, filename: str) -> dict:
    """``purls`` (CEP 63), ``extra_depends`` (optional dependency groups) and
    ``flags`` (variant flags): kept in records as rattler-index keeps them."""
    out = {}
    purls = index.get("purls")
    if purls is not None:
        purls = _specs(purls, "purls", filename)
        if not all(p.startswith("pkg:") and " " not in p for p in purls):
            raise InvalidPackage(f"{filename}: 'purls' in info/index.json are package URLs (pkg:type/name)")
        out["purls"] = purls
    extra = index.get("extra_depends")
    if extra is not None:
        if not isinstance(extra, dict) or len(extra) > MAX_EXTRA_GROUPS:
            raise InvalidPackage(f"{filename}: 'extra_depends' in info/index.json maps group names to lists of specs")
        groups = {}
        for group, specs in extra.items():
            if not NAME_RE.fullmatch(group):
                raise InvalidPackage(f"{filename}: invalid extra_depends group {group[:80]!r}")
            groups[group] = _specs(specs, f"extra_depends.{group}", filename)
        if groups:
            out["extra_depends"] = groups
    flags = index.get("flags")
    if flags is not None:
        flags = _specs(flags, "flags", filename)
        if flags:
            out["flags"] = flags
    return out


def _run_exports_json(data: bytes, filename: str) -> dict:
    """run_exports.json: a map of kinds, or the old plain list (weak), as conda-index reads it."""
    try:
        value = loads_json(data, what="info/run_exports.json")
    except (UnicodeDecodeError, ValueError) as exc:  # json's errors and Unbounded
        raise InvalidPackage(f"{filename}: info/run_exports.json is not valid JSON ({exc})") from exc
    if isinstance(value, list):
        return {"weak": value}
    if not isinstance(value, dict):
        raise InvalidPackage(f"{filename}: info/run_exports.json must hold a JSON object or list")
    return value


def clean_run_exports(data: dict, filename: str) -> dict:
    out = {}
    for key, value in data.items():
        if key not in RUN_EXPORT_KEYS:
            continue
        out[key] = _specs(value, f"run_exports.{key}", filename)
    return out


def clean_about(about: dict) -> dict:
    out = {}
    for key in ABOUT_FIELDS:
        value = about.get(key)
        if isinstance(value, list):  # conda-build allows lists of URLs
            value = next((v for v in value if isinstance(v, str)), None)
        if isinstance(value, str) and key in LINK_FIELDS:
            value = check_link(value, f"info/about.json {key}")
        if isinstance(value, str) and value:
            out[key] = value[: (MAX_DESCRIPTION if key == "description" else 1000)]
    return out


def _slim_path_entry(entry: dict):
    """Keep of a paths.json entry only what channeldata_flags reads (memory stays
    small however many entries the file lists)."""
    if "_path" not in entry:
        return entry
    path = entry.get("_path")
    if not isinstance(path, str):
        return None
    kept = {"_path": path} if path.startswith(("etc/conda/", "bin/.", "Scripts/.")) else {}
    if entry.get("prefix_placeholder"):
        kept.update(_path=path, prefix_placeholder=True, file_mode=entry.get("file_mode"))
    return kept or None


def _paths_json(data: bytes, filename: str):
    try:
        value = loads_json(data, what="info/paths.json", object_hook=_slim_path_entry)
    except (UnicodeDecodeError, ValueError) as exc:  # json's errors and Unbounded
        raise InvalidPackage(f"{filename}: info/paths.json is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidPackage(f"{filename}: info/paths.json must hold a JSON object")
    return value


def channeldata_flags(paths: dict | None, name: str) -> dict:
    """The CEP-38 per-package flags, from info/paths.json."""
    flags = dict.fromkeys(("activate.d", "deactivate.d", "post_link", "pre_link", "pre_unlink",
                           "binary_prefix", "text_prefix"), False)
    entries = (paths or {}).get("paths") if isinstance(paths, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        p = str(entry.get("_path", ""))
        if p.startswith("etc/conda/activate.d/"):
            flags["activate.d"] = True
        elif p.startswith("etc/conda/deactivate.d/"):
            flags["deactivate.d"] = True
        for script in ("post_link", "pre_link", "pre_unlink"):
            stem = f".{name}-{script.replace('_', '-')}"
            if p in (f"bin/{stem}.sh", f"Scripts/{stem}.bat"):
                flags[script] = True
        if entry.get("prefix_placeholder"):
            flags["binary_prefix" if entry.get("file_mode") == "binary" else "text_prefix"] = True
    return flags


def inspect_package(path, filename: str, now_ms: int | None = None) -> FileInfo:
    """Read and validate a conda package; ``filename`` may carry its subdir (``linux-64/x.conda``)."""
    subdir_given, _, fn = filename.rpartition("/")
    stem, ext = split_extension(fn)
    members = read_info(path, fn)
    index = _json(members["info/index.json"], "info/index.json", fn)
    rec = validate_index(index, fn, now_ms)
    expected = f"{rec['name']}-{rec['version']}-{rec['build']}{ext}"
    if fn != expected:
        raise InvalidPackage(f"the file name {fn!r} does not match its metadata (expected {expected!r})")
    if subdir_given and subdir_given != rec["subdir"]:
        raise InvalidPackage(f"{fn} is a {rec['subdir']} package, not {subdir_given}")
    about = clean_about(_json(members["info/about.json"], "info/about.json", fn)) if "info/about.json" in members else {}
    attrs = dict(rec)
    if "info/run_exports.json" in members:
        run_exports = clean_run_exports(_run_exports_json(members["info/run_exports.json"], fn), fn)
        if run_exports:
            attrs["run_exports"] = run_exports
    paths = _paths_json(members.pop("info/paths.json"), fn) if "info/paths.json" in members else None
    attrs["channeldata"] = channeldata_flags(paths, rec["name"])
    attrs["about"] = about
    license_ = about.get("license") or rec.get("license", "")
    package_attrs = {k: about[k] for k in ("home", "dev_url", "doc_url", "license_url", "license_family")
                     if about.get(k)}
    if license_:
        package_attrs["license"] = license_
    return FileInfo(
        name=rec["name"],
        version=rec["version"],
        basename=f"{rec['subdir']}/{fn}",
        summary=about.get("summary", ""),
        description=about.get("description", ""),
        license=license_,
        home=about.get("home", ""),
        platform=rec["subdir"],
        attrs=attrs,
        dependencies={"depends": list(rec["depends"]), "constrains": list(rec.get("constrains", []))},
        package_attrs=package_attrs,
    )
