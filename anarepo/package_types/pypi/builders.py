"""Real wheels and sdists built in memory, for tests and benchmarks (no build backend).

The archives are what a build backend would write: a wheel with its
``.dist-info/METADATA``, ``WHEEL`` and ``RECORD`` (hashes included), an sdist
with ``PKG-INFO``, ``pyproject.toml`` and a tiny in-tree PEP 517 backend, so that
pip and uv build it offline, with build isolation.
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


#: A PEP 517 in-tree backend shipped inside test sdists: builds the wheel with
#: zipfile, needs nothing installed (``requires = []``), so pip and uv can build
#: the sdist with build isolation and without any network.
_BACKEND = '''"""Minimal in-tree build backend for anarepo test sdists."""
import base64, hashlib, os, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _meta():
    with open(os.path.join(HERE, "PKG-INFO"), "rb") as f:
        data = f.read()
    fields = dict(line.split(": ", 1) for line in data.decode().split("\\n\\n")[0].splitlines() if ": " in line)
    return data, fields["Name"], fields["Version"]


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    data, name, version = _meta()
    dist = "".join(c if c.isalnum() else "_" for c in name)
    while "__" in dist:
        dist = dist.replace("__", "_")
    info = f"{dist}-{version}.dist-info"
    files = {f"{info}/METADATA": data,
             f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: anarepo-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    for entry in os.listdir(HERE):
        package = os.path.join(HERE, entry)
        if os.path.isfile(os.path.join(package, "__init__.py")):
            for fname in sorted(os.listdir(package)):
                if fname.endswith(".py"):
                    with open(os.path.join(package, fname), "rb") as f:
                        files[f"{entry}/{fname}"] = f.read()
    record = []
    for path, content in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(content)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\\n".join(record) + "\\n").encode()
    filename = f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for path, content in files.items():
            zf.writestr(path, content)
    return filename
'''


def sdist(name: str, version: str, *, module: str | None = None, requires_python: str | None = None,
          fmt: str = "tar.gz", metadata: str | None = None) -> tuple[str, bytes]:
    """``(filename, bytes)`` of an sdist (``.tar.gz`` or ``.zip``) with an in-tree backend."""
    dist = _escape(name)
    module = module or dist.lower()
    top = f"{dist}-{version}"
    meta = metadata if metadata is not None else metadata_text(name, version, requires_python)
    files = {
        f"{top}/PKG-INFO": meta.encode(),
        f"{top}/pyproject.toml": b'[build-system]\nrequires = []\n'
        b'build-backend = "anarepo_test_backend"\nbackend-path = ["."]\n',
        f"{top}/anarepo_test_backend.py": _BACKEND.encode(),
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
