"""Build real package files for upload tests, offline: conda (.tar.bz2, .conda),
wheels and sdists, written byte by byte with the standard archive formats."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
import zipfile


def _tar(members: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def conda_index(name, version, build="py_0", subdir="noarch", depends=(), build_number=0) -> dict:
    index = {"name": name, "version": version, "build": build, "build_number": build_number,
             "depends": list(depends), "license": "MIT", "subdir": subdir, "timestamp": 1700000000000}
    if subdir == "noarch":
        index["noarch"] = "python"
    else:
        index["platform"], _, arch = subdir.partition("-")
        index["arch"] = {"64": "x86_64", "aarch64": "aarch64"}.get(arch, arch)
    return index


def _conda_info(name, version, build, subdir, depends, summary):
    index = conda_index(name, version, build, subdir, depends)
    about = {"summary": summary, "license": "MIT", "home": "https://example.com", "description": "desc"}
    return {
        "info/index.json": json.dumps(index).encode(),
        "info/about.json": json.dumps(about).encode(),
        "info/paths.json": json.dumps({"paths": [], "paths_version": 1}).encode(),
    }


def conda_tar_bz2(name, version, build="py_0", subdir="noarch", depends=(), summary="A test package") -> bytes:
    members = _conda_info(name, version, build, subdir, depends, summary)
    members[f"site-packages/{name}/__init__.py"] = b"x = 1\n"
    return _tar(members, "w:bz2")


def conda_v2(name, version, build="py_0", subdir="noarch", depends=(), summary="A test package") -> bytes:
    import zstandard

    stem = f"{name}-{version}-{build}"
    info = _tar(_conda_info(name, version, build, subdir, depends, summary), "w")
    pkg = _tar({f"site-packages/{name}/__init__.py": b"x = 1\n"}, "w")
    cctx = zstandard.ZstdCompressor()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr(f"pkg-{stem}.tar.zst", cctx.compress(pkg))
        zf.writestr(f"info-{stem}.tar.zst", cctx.compress(info))
    return buf.getvalue()


def _metadata(name, version, summary) -> bytes:
    return (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
            f"License: BSD\nRequires-Dist: requests>=2\n\nLong description.\n").encode()


def wheel(name, version, summary="A py pkg", dist_name=None) -> bytes:
    """A pure-Python wheel; ``dist_name`` overrides the Name in METADATA (mismatch tests)."""
    norm = name.replace("-", "_")
    distinfo = f"{norm}-{version}.dist-info"
    files = {
        f"{norm}/__init__.py": b"x = 1\n",
        f"{distinfo}/METADATA": _metadata(dist_name or name, version, summary),
        f"{distinfo}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{distinfo}/RECORD,,")
    files[f"{distinfo}/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return buf.getvalue()


def wheel_name(name, version) -> str:
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


def sdist(name, version, summary="A py pkg") -> bytes:
    top = f"{name}-{version}"
    return _tar({
        f"{top}/PKG-INFO": _metadata(name, version, summary),
        f"{top}/setup.py": b"from setuptools import setup\nsetup()\n",
        f"{top}/{name.replace('-', '_')}/__init__.py": b"x = 1\n",
    }, "w:gz")
