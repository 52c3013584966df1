"""Build real conda packages (.tar.bz2 and .conda) in memory or on disk, for tests.

The archives are what conda-build/rattler-build produce in shape: ``info/index.json``,
``info/about.json``, ``info/paths.json`` (rattler's installer reads it), optional
``info/run_exports.json``, and payload files.  ``.conda`` archives are written with
conda-package-streaming's ``conda_builder``; ``.tar.bz2`` with ``tarfile``.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
import time
from pathlib import Path

from conda_package_streaming.create import conda_builder


def index_json(name, version, build="0", build_number=0, subdir="noarch", depends=(), **extra) -> dict:
    data = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": build_number,
        "subdir": subdir,
        "depends": list(depends),
        "license": "BSD-3-Clause",
        "timestamp": int(time.time() * 1000) - 60_000,
    }
    if subdir == "noarch":
        data["noarch"] = "generic"
    else:
        platform, _, arch = subdir.partition("-")
        data["platform"] = platform
        data["arch"] = {"64": "x86_64", "32": "x86"}.get(arch, arch)
    data.update(extra)
    return data


def _members(index: dict, about: dict | None, run_exports: dict | None, payload: dict[str, bytes],
             info_files: dict[str, bytes] | None):
    """(path, bytes) of every file of the package, info/ first."""
    paths = []
    for path, data in payload.items():
        paths.append({"_path": path, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(),
                      "size_in_bytes": len(data)})
    files = {
        "info/index.json": json.dumps(index, indent=2).encode(),
        "info/about.json": json.dumps(about or {"summary": f"{index['name']} for tests", "home": "https://example.org",
                                               "license": index.get("license", "")}).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}).encode(),
        "info/files": "".join(p + "\n" for p in payload).encode(),
    }
    if run_exports is not None:
        files["info/run_exports.json"] = json.dumps(run_exports).encode()
    files.update(info_files or {})
    files.update(payload)
    return files


def _add(tar: tarfile.TarFile, path: str, data: bytes) -> None:
    info = tarfile.TarInfo(path)
    info.size = len(data)
    info.mtime = 1_700_000_000
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def build_package(name, version, build="0", *, subdir="noarch", fmt=".tar.bz2", depends=(), about=None,
                  run_exports=None, payload=None, info_files=None, index_extra=None, index=None) -> tuple[str, bytes]:
    """Return (filename, bytes) of a conda package; ``index`` overrides index.json entirely."""
    if index is None:
        index = index_json(name, version, build, subdir=subdir, depends=depends, **(index_extra or {}))
    payload = payload if payload is not None else {f"share/{name}/{name}-{version}.txt": f"{name} {version}\n".encode()}
    files = _members(index, about, run_exports, payload, info_files)
    stem = f"{name}-{version}-{build}"
    if fmt == ".tar.bz2":
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
            for path, data in files.items():
                _add(tar, path, data)
        return stem + fmt, buf.getvalue()
    if fmt == ".conda":
        with tempfile.TemporaryDirectory() as tmp:
            with conda_builder(stem, tmp, compression_level=3) as tar:
                for path, data in files.items():
                    _add(tar, path, data)
            return stem + fmt, (Path(tmp) / f"{stem}.conda").read_bytes()
    raise ValueError(fmt)


def write_package(directory, *args, **kw) -> Path:
    """Build a package into ``directory/<subdir>/<file>`` (a channel layout)."""
    fn, data = build_package(*args, **kw)
    subdir = kw.get("subdir", "noarch") if kw.get("index") is None else kw["index"]["subdir"]
    target = Path(directory) / subdir / fn
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def publish_conda(app, owner, filename, data, labels=None, access="public"):
    """Inspect then publish a conda package through the publishing service; return its basename."""
    from anarepo.services.publishing import inspect_upload, publish
    from anarepo.storage import blob_tmpdir, spool

    with app.root() as root:
        spooled = spool(io.BytesIO(data), blob_tmpdir(app.db), max_size=1 << 34)
        ptype = app.registry.package_types["conda"]
        try:
            info = inspect_upload(ptype, spooled.path, filename)
            publish(root.owners[owner], spooled, ptype, info, labels=labels, access=access, uploader=owner,
                    operator=app.registry)
        except BaseException:
            spooled.discard()
            raise
        return info.basename


def user_with_conda_package(app, login="alice", name="tool", version="1.0") -> str:
    """A new user holding one public noarch conda package; returns its file name."""
    app.make_user(login)
    filename, data = build_package(name, version)
    publish_conda(app, login, filename, data)
    return filename
