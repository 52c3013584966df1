"""Safe reading of uploaded archives: bounded, never extracted, no path tricks."""
from __future__ import annotations

import posixpath
import tarfile
import zipfile

from ..plugins import InvalidPackage

MAX_MEMBERS = 100_000
MAX_MEMBER_READ = 2 * 1024 * 1024


def check_member_name(name: str, archive: str) -> str:
    """Refuse absolute paths, ``..``, backslashes and drive letters in archive members."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise InvalidPackage(f"{archive}: unsafe path {name[:100]!r} in the archive")
    parts = posixpath.normpath(name).split("/")
    if ".." in name.split("/") or parts[0] == "..":
        raise InvalidPackage(f"{archive}: unsafe path {name[:100]!r} in the archive")
    return name


def tar_members(path, archive: str):
    """Yield (TarInfo, tarfile) for a .tar/.tar.gz/.tgz, checking every member."""
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidPackage(f"{archive}: not a readable tar archive ({exc})") from None
    with tar:
        try:
            for count, member in enumerate(tar, 1):
                if count > MAX_MEMBERS:
                    raise InvalidPackage(f"{archive}: too many files in the archive")
                check_member_name(member.name, archive)
                if member.issym() or member.islnk():
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
                    if member.linkname.startswith("/") or target.startswith(".."):
                        raise InvalidPackage(f"{archive}: link {member.name!r} points outside the archive")
                if member.isdev():
                    raise InvalidPackage(f"{archive}: device file {member.name!r} in the archive")
                yield member, tar
        except (tarfile.TarError, OSError, EOFError, zlib_error()) as exc:
            raise InvalidPackage(f"{archive}: corrupt archive ({exc.__class__.__name__})") from None


def zlib_error():
    import zlib

    return zlib.error


def read_tar_member(tar, member, archive: str, limit: int = MAX_MEMBER_READ) -> bytes:
    if member.size > limit:
        raise InvalidPackage(f"{archive}: {member.name} is larger than {limit} bytes")
    handle = tar.extractfile(member)
    if handle is None:
        raise InvalidPackage(f"{archive}: {member.name} is not a regular file")
    return handle.read(limit + 1)[:limit]


def zip_names(path, archive: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidPackage(f"{archive}: not a readable zip archive ({exc})") from None
    if len(infos) > MAX_MEMBERS:
        raise InvalidPackage(f"{archive}: too many files in the archive")
    return [check_member_name(info.filename, archive) for info in infos]
