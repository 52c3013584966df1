"""Safe reading of uploaded archives: bounded, never extracted, no path tricks."""
from __future__ import annotations

import os
import posixpath
import tarfile
import zipfile

from ..plugins.api import BudgetExceeded, InvalidPackage, work_budget

MAX_MEMBER_READ = 2 * 1024 * 1024


def check_member_name(name: str, archive: str) -> str:
    """Refuse absolute paths, ``..``, backslashes and drive letters in archive members."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise InvalidPackage(f"{archive}: unsafe path {name[:100]!r} in the archive")
    parts = posixpath.normpath(name).split("/")
    if ".." in name.split("/") or parts[0] == "..":
        raise InvalidPackage(f"{archive}: unsafe path {name[:100]!r} in the archive")
    return name


def open_decompressed(path, archive: str):
    """The decompressed stream of a (maybe gzip/bzip2/xz) file, charged to the work budget."""
    import bz2
    import gzip
    import lzma

    budget = work_budget(os.path.getsize(path))
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x1f\x8b"):
        raw = gzip.open(path, "rb")
    elif head.startswith(b"BZh"):
        raw = bz2.open(path, "rb")
    elif head.startswith(b"\xfd7zXZ\x00"):
        raw = lzma.open(path, "rb")
    else:
        raw = open(path, "rb")  # noqa: SIM115 - closed with the reader
    return budget, budget.reader(raw, archive)


def link_target(member) -> str:
    """Where a link points, relative to the archive root: a symlink's target is
    relative to its own directory, a hard link's to the root of the archive."""
    if member.islnk():
        return posixpath.normpath(member.linkname)
    return posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))


def tar_members(path, archive: str):
    """Yield (TarInfo, tarfile) for a .tar/.tar.gz/.tgz/.tar.bz2/.tar.xz, checking every member
    and charging the walk to the work budget."""
    try:
        budget, stream = open_decompressed(path, archive)
        tar = tarfile.open(fileobj=stream, mode="r:")
    except InvalidPackage:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib_error(), ValueError) as exc:
        raise InvalidPackage(f"{archive}: not a readable tar archive ({exc})") from None
    with tar, stream.raw, stream:
        try:
            for member in tar:
                budget.charge_member(archive)
                check_member_name(member.name, archive)
                if member.issym() or member.islnk():
                    if member.linkname.startswith("/") or link_target(member).split("/")[0] == "..":
                        raise InvalidPackage(f"{archive}: link {member.name!r} points outside the archive")
                if member.isdev():
                    raise InvalidPackage(f"{archive}: device file {member.name!r} in the archive")
                yield member, tar
        except InvalidPackage:
            raise
        except (tarfile.TarError, OSError, EOFError, zlib_error(), ValueError) as exc:
            raise InvalidPackage(f"{archive}: corrupt archive ({exc.__class__.__name__})") from None


def zlib_error():
    import zlib

    return zlib.error


def read_tar_member(tar, member, archive: str, limit: int = MAX_MEMBER_READ) -> bytes:
    if member.size > limit:
        raise BudgetExceeded(f"{archive}: {member.name} is larger than {limit} bytes")
    handle = tar.extractfile(member)
    if handle is None:
        raise InvalidPackage(f"{archive}: {member.name} is not a regular file")
    return handle.read(limit + 1)[:limit]


def zip_names(path, archive: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidPackage(f"{archive}: not a readable zip archive ({exc})") from None
    budget = work_budget(os.path.getsize(path))
    for _ in infos:
        budget.charge_member(archive)
    return [check_member_name(info.filename, archive) for info in infos]


def read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: str, limit: int) -> bytes:
    """At most ``limit`` bytes of one zip member, charged to the work budget."""
    if info.file_size > limit:
        raise BudgetExceeded(f"{archive}: {info.filename} is larger than {limit} bytes")
    budget = work_budget()
    try:
        with zf.open(info) as member:
            data = budget.reader(member, archive).read(limit + 1)
    except InvalidPackage:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, zlib_error()) as exc:
        raise InvalidPackage(f"{archive}: corrupt archive member {info.filename} ({exc})") from None
    if len(data) > limit:
        raise BudgetExceeded(f"{archive}: {info.filename} is larger than {limit} bytes")
    return data
