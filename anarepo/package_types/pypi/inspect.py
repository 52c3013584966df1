"""Reading wheels and sdists without trusting them.

The archive is opened in place (never extracted), only the one metadata member
is read, with a size bound, and the number of members and the bytes
decompressed while looking for it are bounded too (zip and gzip bombs).  The
metadata is parsed by pkginfo; the file name and the metadata must agree on the
project (PEP 503-normalized) and the version (PEP 440-canonical), so the index
never lists a file under a name pip would not expect.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field

import pkginfo
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ...plugins.api import BudgetExceeded, InvalidPackage, MAX_DESCRIPTION, MAX_LICENSE, work_budget
from ..archives import read_zip_member

#: Largest METADATA / PKG-INFO we accept (long descriptions included); members walked
#: and bytes decompressed are charged to the upload's work budget (docs/security.md).
MAX_METADATA_SIZE = 8 << 20  # bytes; names.MAX_DESCRIPTION is the same figure in characters

WHEEL_SUFFIX = ".whl"
SDIST_SUFFIXES = (".tar.gz", ".zip")
NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def normalize(name: str) -> str:
    """PEP 503 project name normalization (``Foo_Bar.baz`` → ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def is_pypi_filename(filename: str) -> bool:
    return filename.endswith(WHEEL_SUFFIX) or filename.endswith(SDIST_SUFFIXES)


@dataclass
class CoreMetadata:
    """What the index needs from a file's core metadata."""

    name: str
    version: str
    packagetype: str  # bdist_wheel | sdist
    python_version: str  # the wheel's python tag(s), or "source"
    metadata_version: str
    raw: bytes  # METADATA / PKG-INFO as found in the archive
    summary: str = ""
    description: str = ""
    description_content_type: str = ""
    license: str = ""
    home_page: str = ""
    author: str = ""
    requires_python: str | None = None
    requires_dist: list = field(default_factory=list)
    provides_extras: list = field(default_factory=list)
    project_urls: dict = field(default_factory=dict)
    classifiers: list = field(default_factory=list)
    platform: str | None = None

    @property
    def project(self) -> str:
        return normalize(self.name)

    @property
    def raw_sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


class _Parsed(pkginfo.Distribution):
    """pkginfo over bytes we already read (pkginfo's own readers are unbounded)."""

    def __init__(self, data: bytes):
        self._data = data
        self.extractMetadata()

    def read(self):
        return self._data


# -- archive readers -----------------------------------------------------------
def _read_member_zip(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> bytes:
    return read_zip_member(archive, info, filename, MAX_METADATA_SIZE)


def _open_zip(path, filename: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InvalidPackage(f"{filename}: not a valid zip archive ({exc})") from None
    budget = work_budget()
    try:
        for _ in archive.filelist:
            budget.charge_member(filename)
    except BudgetExceeded:
        archive.close()
        raise
    return archive


def read_wheel_metadata(path, filename: str) -> bytes:
    """The ``<name>-<version>.dist-info/METADATA`` of a wheel (PEP 427/491)."""
    with _open_zip(path, filename) as archive:
        infos = {info.filename: info for info in archive.filelist}
        dist_infos = {
            name.split("/", 1)[0]
            for name in infos
            if "/" in name and name.split("/", 1)[0].endswith(".dist-info")
        }
        if len(dist_infos) != 1:
            raise InvalidPackage(
                f"{filename}: a wheel has exactly one top-level .dist-info directory"
                f" (found {len(dist_infos)})"
            )
        dist_info = dist_infos.pop()
        for required in ("METADATA", "WHEEL", "RECORD"):
            if f"{dist_info}/{required}" not in infos:
                raise InvalidPackage(f"{filename}: {dist_info}/{required} is missing")
        wheel = _read_member_zip(archive, infos[f"{dist_info}/WHEEL"], filename)
        if b"Wheel-Version" not in wheel:
            raise InvalidPackage(f"{filename}: {dist_info}/WHEEL has no Wheel-Version")
        return _read_member_zip(archive, infos[f"{dist_info}/METADATA"], filename)


def _pkg_info_member(name: str, filename: str) -> bool:
    parts = name.strip("/").split("/")
    return len(parts) == 2 and parts[1] == "PKG-INFO"


def read_sdist_metadata(path, filename: str) -> bytes:
    """The top-level ``<name>-<version>/PKG-INFO`` of a ``.tar.gz`` or ``.zip`` sdist."""
    if filename.endswith(".zip"):
        with _open_zip(path, filename) as archive:
            for info in archive.filelist:
                if _pkg_info_member(info.filename, filename):
                    return _read_member_zip(archive, info, filename)
        raise InvalidPackage(f"{filename}: no <name>-<version>/PKG-INFO in the sdist")
    try:
        budget = work_budget()
        with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            stream = io.BufferedReader(budget.reader(gz, filename), 1 << 16)
            with tarfile.open(fileobj=stream, mode="r|") as archive:
                for member in archive:
                    budget.charge_member(filename)
                    if member.isfile() and _pkg_info_member(member.name, filename):
                        if member.size > MAX_METADATA_SIZE:
                            raise BudgetExceeded(f"{filename}: PKG-INFO is too large")
                        return archive.extractfile(member).read(MAX_METADATA_SIZE)
    except InvalidPackage:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
        raise InvalidPackage(f"{filename}: not a valid .tar.gz archive ({exc})") from None
    raise InvalidPackage(f"{filename}: no <name>-<version>/PKG-INFO in the sdist")


# -- metadata -------------------------------------------------------------------
def _parse(raw: bytes, filename: str) -> _Parsed:
    import warnings

    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPackage(f"{filename}: the metadata is not UTF-8") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = _Parsed(raw)
    if not parsed.metadata_version:
        raise InvalidPackage(f"{filename}: the metadata has no Metadata-Version")
    if not parsed.name or not parsed.version:
        raise InvalidPackage(f"{filename}: the metadata has no Name or no Version")
    return parsed


def _project_urls(entries) -> dict:
    urls = {}
    for entry in entries or ():
        label, _, url = entry.partition(",")
        if url.strip():
            urls[label.strip()[:100]] = url.strip()[:1000]
    return urls


def check_requirements(values, filename: str) -> list[str]:
    out = []
    for value in values or ():
        try:
            Requirement(value)
        except InvalidRequirement as exc:
            raise InvalidPackage(f"{filename}: invalid Requires-Dist {value!r} ({exc})") from None
        out.append(value)
    return out


def read_metadata(path, filename: str) -> CoreMetadata:
    """Read and check a wheel or sdist; raise :class:`InvalidPackage` on any doubt."""
    if "/" in filename or "\\" in filename:
        raise InvalidPackage(f"{filename}: a file name, not a path, is expected")
    platform = None
    if filename.endswith(WHEEL_SUFFIX):
        try:
            file_name, file_version, _build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion) as exc:
            raise InvalidPackage(f"{filename}: invalid wheel file name ({exc})") from None
        raw = read_wheel_metadata(path, filename)
        packagetype = "bdist_wheel"
        python_version = ".".join(sorted({t.interpreter for t in tags}))
        platforms = sorted({t.platform for t in tags})
        platform = ".".join(platforms)
    elif filename.endswith(SDIST_SUFFIXES):
        try:
            file_name, file_version = parse_sdist_filename(filename)
        except (InvalidSdistFilename, InvalidVersion) as exc:
            raise InvalidPackage(f"{filename}: invalid sdist file name ({exc})") from None
        raw = read_sdist_metadata(path, filename)
        packagetype = "sdist"
        python_version = "source"
    else:
        raise InvalidPackage(
            f"{filename}: not a wheel (.whl) or an sdist (.tar.gz, .zip)"
        )
    parsed = _parse(raw, filename)
    name, version = parsed.name.strip(), parsed.version.strip()
    if not NAME_RE.fullmatch(name):
        raise InvalidPackage(f"{filename}: invalid project name {name!r} in the metadata")
    try:
        parsed_version = Version(version)
    except InvalidVersion:
        raise InvalidPackage(f"{filename}: version {version!r} is not a valid PEP 440 version") from None
    if canonicalize_name(name) != file_name:
        raise InvalidPackage(
            f"{filename}: the file name says project {file_name!r} but the metadata says {name!r}"
        )
    if parsed_version != file_version:
        raise InvalidPackage(
            f"{filename}: the file name says version {file_version} but the metadata says {version}"
        )
    requires_python = (parsed.requires_python or "").strip() or None
    if requires_python is not None:
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier:
            raise InvalidPackage(f"{filename}: invalid Requires-Python {requires_python!r}") from None
    urls = _project_urls(parsed.project_urls)
    home = parsed.home_page or next(
        (u for k, u in urls.items() if k.lower().replace("-", "").replace("_", "") in ("homepage", "home")), ""
    )
    return CoreMetadata(
        name=name,
        version=version,
        packagetype=packagetype,
        python_version=python_version,
        metadata_version=parsed.metadata_version,
        raw=raw,
        summary=(parsed.summary or "")[:1000],
        description=(parsed.description or "")[:MAX_DESCRIPTION],
        description_content_type=parsed.description_content_type or "",
        license=(parsed.license_expression or parsed.license or "")[:MAX_LICENSE],
        home_page=(home or "")[:1000],
        author=(parsed.author or parsed.author_email or "")[:1000],
        requires_python=requires_python,
        requires_dist=check_requirements(parsed.requires_dist, filename),
        provides_extras=list(parsed.provides_extras or ()),
        project_urls=urls,
        classifiers=list(parsed.classifiers or ())[:500],
        platform=platform,
    )


def same_version(a: str, b: str) -> bool:
    """PEP 440 equality (``1.0`` == ``1.0.0``? no: canonical forms must match)."""
    try:
        return canonicalize_version(a, strip_trailing_zero=False) == canonicalize_version(b, strip_trailing_zero=False)
    except Exception:
        return a == b


def dependencies(requires_dist) -> dict:
    """anaconda.org's ``{"depends": [...], "extras": [...]}`` shape for the API and pages."""
    depends, extras = [], {}
    for value in requires_dist or ():
        req = Requirement(value)
        entry = {"name": req.name, "specs": [[s.operator, s.version] for s in req.specifier]}
        marker = str(req.marker) if req.marker else ""
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        if extra:
            extras.setdefault(extra.group(1), []).append(entry)
        else:
            if marker:
                entry["marker"] = marker
            depends.append(entry)
    return {
        "depends": depends,
        "extras": [{"name": k, "depends": v} for k, v in extras.items()],
        "has_dep_errors": False,
    }
