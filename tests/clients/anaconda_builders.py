"""Build real package files for upload tests, offline: conda (.tar.bz2, .conda,
through ``tests.conda_builders``), wheels and sdists written with the standard
archive formats."""
from __future__ import annotations

import hashlib
import io
import tarfile
import time
import zipfile

from tests.conda_builders import build_package


def _tar(members: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _about(summary):
    return {"summary": summary, "license": "MIT", "home": "https://example.com", "description": "desc"}


def conda_tar_bz2(name, version, build="py_0", subdir="noarch", depends=(), summary="A test package",
                  **index_extra) -> bytes:
    return build_package(name, version, build, subdir=subdir, depends=depends, about=_about(summary),
                         index_extra=index_extra)[1]


def conda_v2(name, version, build="py_0", subdir="noarch", depends=(), summary="A test package") -> bytes:
    return build_package(name, version, build, subdir=subdir, depends=depends, about=_about(summary),
                         fmt=".conda")[1]


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
