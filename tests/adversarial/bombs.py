"""Builders of small hostile archives that expand into a lot of work (tests and bench/bombs.py).

Each returns ``(filename, bytes, type_name)``.  They are cheap to build: a
compressed block of zeros is made once and repeated (multi-stream bzip2,
multi-member gzip, which every decoder reads as one stream).
"""
from __future__ import annotations

import bz2
import gzip
import io
import json
import tarfile
import zipfile

from anarepo.package_types.pypi import builders as pypi_builders
from tests.conda_builders import index_json

MiB = 1 << 20
ZEROS = b"\0" * MiB


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 1_700_000_000
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _pad(size: int) -> bytes:
    return b"\0" * (-size % tarfile.BLOCKSIZE)


def _tar_bytes(files: dict[str, bytes], end: bool = True) -> bytes:
    out = b"".join(_header(n, len(d)) + d + _pad(len(d)) for n, d in files.items())
    return out + (b"\0" * tarfile.RECORDSIZE if end else b"")


def _repeated(compress, total: int) -> bytes:
    """``total`` bytes of zeros as repeated compressed members of one MiB each."""
    one = compress(ZEROS)
    return one * (total // MiB)


def tar_with_zeros_first(compress, first: str, zeros: int, rest: dict[str, bytes]) -> bytes:
    """A tar whose first member is ``zeros`` bytes of zeros, then ``rest``; compressed
    member by member (multi-stream)."""
    return compress(_header(first, zeros)) + _repeated(compress, zeros) + compress(_pad(zeros) + _tar_bytes(rest))


def conda_info(name: str, version: str, paths_json: bytes | None = None) -> dict[str, bytes]:
    return {
        "info/index.json": json.dumps(index_json(name, version)).encode(),
        "info/about.json": b'{"summary": "bomb"}',
        "info/paths.json": paths_json if paths_json is not None else b'{"paths": [], "paths_version": 1}',
    }


def conda_zeros_before_info(zeros: int = 4096 * MiB):
    """The issue's 4 KB .tar.bz2: gigabytes of zeros before info/."""
    data = tar_with_zeros_first(bz2.compress, "aaa/zeros.bin", zeros, conda_info("bomb", "1.0"))
    return "bomb-1.0-0.tar.bz2", data, "conda"


def _paths_json_bomb(size: int) -> bytes:
    entry = b'{"_path": "x", "path_type": "hardlink", "size_in_bytes": 0},'
    count = size // len(entry)
    return b'{"paths_version": 1, "paths": [' + entry * count + b'{"_path": "y"}]}'


def conda_huge_paths_json(size: int = 60 * MiB):
    """The issue's 2.9 KB package with a 60 MiB info/paths.json."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for path, data in conda_info("pathsbomb", "1.0", _paths_json_bomb(size)).items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return "pathsbomb-1.0-0.tar.bz2", buf.getvalue(), "conda"


def dot_conda_zeros_in_info(zeros: int = 1024 * MiB):
    """A .conda whose info-*.tar.zst holds a gigabyte of zeros before index.json."""
    import zstandard

    stem = "zbomb-1.0-0"
    cctx = zstandard.ZstdCompressor(level=1)
    info_tar = io.BytesIO()
    with cctx.stream_writer(info_tar, closefd=False) as w:
        w.write(_header("info/aaa.bin", zeros))
        for _ in range(zeros // MiB):
            w.write(ZEROS)
        w.write(_pad(zeros) + _tar_bytes(conda_info("zbomb", "1.0")))
    pkg_tar = cctx.compress(_tar_bytes({}))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr(f"pkg-{stem}.tar.zst", pkg_tar)
        zf.writestr(f"info-{stem}.tar.zst", info_tar.getvalue())
    return f"{stem}.conda", buf.getvalue(), "conda"


def project_multi_member_gzip(zeros: int = 4096 * MiB):
    """The issue's 4 MB multi-member gzip project archive that walked 4 GiB."""
    spec = b"name: bombproject\ncommands:\n  run:\n    unix: python app.py\n"
    data = tar_with_zeros_first(lambda b: gzip.compress(b, 9), "bombproject/data.bin", zeros,
                                {"bombproject/anaconda-project.yml": spec})
    return "bombproject.tar.gz", data, "project"


def project_many_members(count: int):
    files = {f"many/f{i}": b"" for i in range(count)}
    files["many/anaconda-project.yml"] = b"name: many\n"
    return "many.tar.gz", gzip.compress(_tar_bytes(files), 1), "project"


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def project_zip_huge_spec(size: int = 512 * MiB):
    """A zip project whose anaconda-project.yml inflates to half a gigabyte."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(_deflated("zproj/anaconda-project.yml"), "w", force_zip64=True) as member:
            for _ in range(size // MiB):
                member.write(ZEROS)
    return "zproj.zip", buf.getvalue(), "project"


def r_zeros_before_description(zeros: int = 2048 * MiB):
    description = b"Package: rbomb\nVersion: 1.0\nTitle: T\nDescription: D\nLicense: MIT\n"
    data = tar_with_zeros_first(lambda b: gzip.compress(b, 9), "rbomb/aaa.bin", zeros,
                                {"rbomb/DESCRIPTION": description})
    return "rbomb_1.0.tar.gz", data, "r"


def sdist_zeros_before_pkg_info(zeros: int = 2048 * MiB):
    pkg_info = pypi_builders.metadata_text("sbomb", "1.0").encode()
    data = tar_with_zeros_first(lambda b: gzip.compress(b, 9), "sbomb-1.0/aaa.bin", zeros,
                                {"sbomb-1.0/PKG-INFO": pkg_info})
    return "sbomb-1.0.tar.gz", data, "pypi"


def wheel_huge_metadata(size: int = 512 * MiB):
    """A wheel whose METADATA inflates to half a gigabyte."""
    fn, data = pypi_builders.wheel("wbomb", "1.0")
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename.endswith("/METADATA"):
                with zf.open(_deflated(info.filename), "w", force_zip64=True) as member:
                    member.write(src.read(info))
                    for _ in range(size // MiB):
                        member.write(b"\n" * MiB)
            else:
                zf.writestr(info, src.read(info))
    return fn, buf.getvalue(), "pypi"


def wheel_many_members(count: int):
    fn, data = pypi_builders.wheel("wmany", "1.0")
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for info in src.infolist():
            zf.writestr(info, src.read(info))
        for i in range(count):
            zf.writestr(f"wmany/f{i}.py", b"")
    return fn, buf.getvalue(), "pypi"


def notebook_many_cells(cells: int = 5000):
    from tests.builders import notebook

    return "bignb.ipynb", notebook([
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "x = 1\n" * 20,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n" * 20}]}
        for _ in range(cells)]), "ipynb"


def notebook_markdown_table(rows: int = 2600, columns: int = 200):
    """A notebook of one Markdown cell holding a table: within the render limits (one
    cell, ~1 MiB of text at the default size) yet mistune and nbconvert's sanitizer
    spend about 45 s of CPU on it (rows x columns cells)."""
    from tests.builders import notebook

    row = "|a" * columns + "|\n"
    table = row + "|-" * columns + "|\n" + row * rows
    return "tablenb.ipynb", notebook([{"cell_type": "markdown", "metadata": {}, "source": table}]), "ipynb"


#: name -> builder with the sizes of the issue (bench/bombs.py)
ISSUE_BOMBS = {
    "conda .tar.bz2, 4 GiB of zeros before info/": conda_zeros_before_info,
    "conda .tar.bz2, 60 MiB info/paths.json": conda_huge_paths_json,
    "conda .conda, 1 GiB of zeros in info": dot_conda_zeros_in_info,
    "project .tar.gz, multi-member gzip of 4 GiB": project_multi_member_gzip,
    "project .zip, 512 MiB anaconda-project.yml": project_zip_huge_spec,
    "R .tar.gz, 2 GiB before DESCRIPTION": r_zeros_before_description,
    "sdist .tar.gz, 2 GiB before PKG-INFO": sdist_zeros_before_pkg_info,
    "wheel, 512 MiB METADATA": wheel_huge_metadata,
    "notebook, 5000 cells": notebook_many_cells,
}
