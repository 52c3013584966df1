"""Real wheels and sdists built in memory, for tests and benchmarks (no build backend).

The archives are what a build backend would write: a wheel with its
``.dist-info/METADATA``, ``WHEEL`` and ``RECORD`` (hashes included), an sdist
with ``PKG-INFO``, ``pyproject.toml`` and ``setup.py`` so that pip and uv can
build it with the setuptools already in a virtualenv (``--no-build-isolation``).
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import time
import zipfile


def _escape(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def metadata_text(name: str, version: str, requires_python: str | None = None,
                  requires_dist=(), summary: str = "A test package", extra_headers=()) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {summary}",
             "License: MIT"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires_dist]
    lines += list(extra_headers)
    return "\n".join(lines) + "\n\nLong description of " + name + ".\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel(name: str, version: str, *, module: str | None = None, requires_python: str | None = None,
          requires_dist=(), tag: str = "py3-none-any", metadata: str | None = None,
          metadata_name: str | None = None, code: str | None = None, padding: int = 0) -> tuple[str, bytes]:
    """``(filename, bytes)`` of a pure-Python wheel installing module ``module``."""
    dist = _escape(name)
    module = module or dist.lower()
    filename = f"{dist}-{version}-{tag}.whl"
    info = f"{dist}-{version}.dist-info"
    meta = metadata if metadata is not None else metadata_text(
        metadata_name or name, version, requires_python, requires_dist)
    files = {
        f"{module}/__init__.py": (code if code is not None else f"VERSION = {version!r}\n").encode()
        + (b"#" * padding),
        f"{info}/METADATA": meta.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: anarepo-tests\nRoot-Is-Purelib: true\nTag: "
        + tag.encode() + b"\n",
    }
    record = [_record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zi = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return filename, buf.getvalue()


def sdist(name: str, version: str, *, module: str | None = None, requires_python: str | None = None,
          fmt: str = "tar.gz", metadata: str | None = None) -> tuple[str, bytes]:
    """``(filename, bytes)`` of a setuptools sdist (``.tar.gz`` or ``.zip``)."""
    dist = _escape(name)
    module = module or dist.lower()
    top = f"{dist}-{version}"
    meta = metadata if metadata is not None else metadata_text(name, version, requires_python)
    files = {
        f"{top}/PKG-INFO": meta.encode(),
        f"{top}/pyproject.toml": b'[build-system]\nrequires = ["setuptools"]\n'
        b'build-backend = "setuptools.build_meta"\n',
        f"{top}/setup.py": (
            "from setuptools import setup\n"
            f"setup(name={name!r}, version={version!r}, packages=[{module!r}]"
            + (f", python_requires={requires_python!r}" if requires_python else "")
            + ")\n"
        ).encode(),
        f"{top}/{module}/__init__.py": f"VERSION = {version!r}\nFROM_SDIST = True\n".encode(),
    }
    buf = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, data in files.items():
                zf.writestr(path, data)
        return f"{top}.zip", buf.getvalue()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, data in files.items():
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = int(time.time())
            tar.addfile(ti, io.BytesIO(data))
    return f"{top}.tar.gz", buf.getvalue()
