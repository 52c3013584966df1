"""The Content-Type of a stored file, as PyPI and anaconda.org send it.

A gzipped tarball is ``application/gzip`` (files.pythonhosted.org), not
``application/x-tar`` with an encoding: a ``Content-Encoding`` would make
clients decompress what they asked to download.  Compressed files are named by
their compression; wheels and zip sdists are ``application/zip``.
"""
from __future__ import annotations

import mimetypes

COMPRESSIONS = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz",
                "br": "application/octet-stream", "compress": "application/x-compress"}
SUFFIXES = {".whl": "application/zip", ".zip": "application/zip", ".zst": "application/zstd",
            ".conda": "application/octet-stream"}


def media_type(basename: str) -> str:
    name = basename.rsplit("/", 1)[-1].lower()
    for suffix, value in SUFFIXES.items():
        if name.endswith(suffix):
            return value
    content_type, encoding = mimetypes.guess_type(name)
    if encoding:
        return COMPRESSIONS.get(encoding, "application/octet-stream")
    return content_type or "application/octet-stream"
