"""A conda corpus in the shapes conda-forge publishes, built with conda-package-handling.

Each package is a real prefix (``info/`` plus payload) archived by
``conda_package_handling.api.create`` into ``.tar.bz2`` or ``.conda``, as
conda-build does: non-PEP 440 versions (``1.1.1w``, ``2.8.5_1``, ``9e``), ``purls``,
``extra_depends``, ``run_exports`` as a map and in the old list form, a free-threading
python with ``python_site_packages_path``, build timestamps in seconds and in
milliseconds, ``noarch: python`` with an entry point, conda-forge's ``about.json``
(lists of URLs, ``extra``), activation scripts and prefix placeholders.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

NOW_MS = 1_733_000_000_000  # 2024-11-30, a fixed build time
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


def _platform(subdir: str) -> dict:
    if subdir == "noarch":
        return {}
    platform, arch = subdir.split("-", 1)
    return {"platform": platform, "arch": {"64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(arch, arch)}


#: (name, version, build, subdir, formats, index fields, extras)
SPECS = [
    ("openssl", "1.1.0l", "h7f98852_0", "linux-64", (".tar.bz2",),
     {"timestamp": 1_569_001_234, "license": "OpenSSL"},  # seconds: old conda-build
     {"run_exports": ["openssl >=1.1.0l,<1.1.1a"]}),  # the old list form (weak)
    ("openssl", "1.1.1w", "hd590300_0", "linux-64", (".tar.bz2", ".conda"),
     {"license": "OpenSSL", "depends": ["ca-certificates", "libgcc-ng >=12"]},
     {"run_exports": {"weak": ["openssl >=1.1.1w,<1.1.2a"]}, "activate": True}),
    ("libfoo", "2.8.4", "h1_0", "linux-64", (".conda",), {}, {"run_exports": {"strong": ["libfoo >=2.8"]}}),
    ("libfoo", "2.8.5_1", "h1_0", "linux-64", (".conda",), {},
     {"run_exports": {"strong": ["libfoo >=2.8"], "weak_constrains": ["libbar <3"]}}),
    ("jpeg", "9e", "h0b41bf4_3", "linux-64", (".tar.bz2",), {"license": "IJG"}, {"placeholder": True}),
    ("ca-certificates", "2024.8.30", "hbcca054_0", "linux-64", (".conda",), {"license": "ISC"}, {}),
    ("_libgcc_mutex", "0.1", "conda_forge", "linux-64", (".tar.bz2",), {"license": "None"}, {}),
    ("libgcc-ng", "14.2.0", "h69a702a_1", "linux-64", (".conda",), {"depends": ["_libgcc_mutex 0.1 conda_forge"]}, {}),
    ("libzlib", "1.3.1", "hb9d3cd8_2", "linux-64", (".conda",), {"constrains": ["zlib 1.3.1 *_2"]}, {}),
    ("libzlib", "1.3.1", "h8359307_2", "osx-arm64", (".conda",), {"constrains": ["zlib 1.3.1 *_2"]}, {}),
    ("libzlib", "1.3.1", "h2466b09_2", "win-64", (".conda",), {"constrains": ["zlib 1.3.1 *_2"]}, {}),
    ("python", "3.12.7", "hc5c86c4_0_cpython", "linux-64", (".conda",),
     {"constrains": ["python_abi 3.12.* *_cp312"], "depends": ["libzlib >=1.3.1"]}, {"python": "3.12"}),
    ("python", "3.13.1", "h1_100_cp313t", "linux-64", (".conda",),
     {"python_site_packages_path": "lib/python3.13t/site-packages", "track_features": "py_freethreading",
      "depends": ["libzlib >=1.3.1"]}, {"python": "3.13t"}),
    ("mytool", "1.0", "pyhd8ed1ab_0", "noarch", (".tar.bz2", ".conda"),
     {"noarch": "python", "depends": ["python >=3.9"], "purls": ["pkg:pypi/mytool@1.0"]},
     {"entry_points": ["mytool = mytool.cli:main"]}),
    ("requests", "2.32.3", "pyhd8ed1ab_0", "noarch", (".conda",),
     {"noarch": "python", "depends": ["python >=3.8", "certifi >=2017.4.17"], "purls": ["pkg:pypi/requests@2.32.3"],
      "extra_depends": {"socks": ["pysocks >=1.5.6,!=1.5.7"]}, "license": "Apache-2.0"}, {}),
    ("tzdata", "2024b", "hc8b5060_0", "noarch", (".conda",), {"noarch": "generic", "license": "LicenseRef-Public-Domain"},
     {"forge_about": True}),
    ("mkl", "2024.0.0", "ha957f24_49657", "linux-64", (".tar.bz2",), {"track_features": "mkl", "features": "blas_mkl"}, {}),
]


def _payload(name, version, subdir, extras) -> dict[str, bytes]:
    files = {}
    if "python" in extras:
        tag = extras["python"]
        files[f"bin/python{tag}"] = b"#!/bin/sh\nexit 0\n"
        files[f"lib/python{tag}/site-packages/README.txt"] = b"site-packages\n"
        files[f"lib/python{tag}/os.py"] = b"# the standard library\n"
    elif "entry_points" in extras:
        files["site-packages/mytool/__init__.py"] = f"VERSION = {version!r}\n".encode()
        files["site-packages/mytool/cli.py"] = b"def main():\n    print('mytool')\n"
    elif subdir == "noarch":
        files[f"share/{name}/data.txt"] = f"{name} {version}\n".encode()
    elif subdir.startswith("win"):
        files[f"Library/bin/{name}.dll"] = b"MZ" + name.encode()
    else:
        files[f"lib/lib{name.strip('_')}.so.{version}"] = b"\x7fELF" + name.encode() + version.encode()
    if extras.get("placeholder"):
        files[f"lib/pkgconfig/{name}.pc"] = f"prefix={PLACEHOLDER}\n".encode()
    if extras.get("activate"):
        files[f"etc/conda/activate.d/{name}_activate.sh"] = b"export SSL_CERT_DIR=$CONDA_PREFIX/ssl\n"
    return files


def _about(name, extras) -> dict:
    about = {"summary": f"{name}, as conda-forge builds it", "license": "BSD-3-Clause",
             "home": f"https://example.org/{name}"}
    if extras.get("forge_about"):
        about.update({
            "home": ["https://www.iana.org/time-zones", "https://github.com/eggert/tz"],  # a list of URLs
            "dev_url": ["https://github.com/eggert/tz"],
            "description": "The Time Zone Database\n" * 200,
            "extra": {"recipe-maintainers": ["ocefpaf", "mbargull"], "feedstock-name": "tzdata"},
            "channels": ["https://conda.anaconda.org/conda-forge"], "conda_build_version": "24.9.0",
            "conda_version": "24.9.2", "env_vars": {"CIO_TEST": "<not set>"},
            "root_pkgs": ["conda 24.9.2 py312h7900ff3_0", "python 3.12.7 hc5c86c4_0_cpython"],
            "tags": [], "identifiers": [], "keywords": [],
        })
    return about


def _info(name, version, build, subdir, index_extra, extras, payload) -> dict[str, bytes]:
    index = {"name": name, "version": version, "build": build, "build_number": int(build.rsplit("_", 1)[-1])
             if build.rsplit("_", 1)[-1].isdigit() else 0, "subdir": subdir, "depends": [],
             "license": "BSD-3-Clause", "timestamp": NOW_MS, **_platform(subdir), **index_extra}
    paths = []
    for path, data in payload.items():
        entry = {"_path": path, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(),
                 "size_in_bytes": len(data)}
        if PLACEHOLDER.encode() in data:
            entry.update(prefix_placeholder=PLACEHOLDER, file_mode="text")
        paths.append(entry)
    info = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/about.json": json.dumps(_about(name, extras), indent=2).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode(),
        "info/files": "".join(p + "\n" for p in payload).encode(),
        "info/git": b"",
        "info/hash_input.json": b"{}",
        "info/recipe/meta.yaml": f"package:\n  name: {name}\n  version: {version}\n".encode(),
    }
    if "run_exports" in extras:
        info["info/run_exports.json"] = json.dumps(extras["run_exports"]).encode()
    if "entry_points" in extras:
        info["info/link.json"] = json.dumps({"noarch": {"type": "python", "entry_points": extras["entry_points"]},
                                             "package_metadata_version": 1}).encode()
    if any(p.startswith("lib/pkgconfig") for p in payload):
        info["info/has_prefix"] = f"{PLACEHOLDER} text lib/pkgconfig/{name}.pc\n".encode()
    return info


def build_corpus(directory: Path) -> list[Path]:
    """Write every package of :data:`SPECS` into ``directory/<subdir>/`` (a channel layout)."""
    from conda_package_handling import api as cph

    out = []
    for name, version, build, subdir, formats, index_extra, extras in SPECS:
        payload = _payload(name, version, subdir, extras)
        files = {**_info(name, version, build, subdir, index_extra, extras, payload), **payload}
        prefix = directory / ".prefixes" / f"{name}-{version}-{build}-{subdir}"
        for path, data in files.items():
            (prefix / path).parent.mkdir(parents=True, exist_ok=True)
            (prefix / path).write_bytes(data)
        target = directory / subdir
        target.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            fn = f"{name}-{version}-{build}{fmt}"
            cph.create(str(prefix), sorted(files), fn, out_folder=str(target))
            out.append(target / fn)
    shutil.rmtree(directory / ".prefixes")
    return out
