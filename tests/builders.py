"""Builders of real test artifacts: notebooks, environment files, R packages, projects."""
from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile


def _with_ids(cells):
    return [{"id": f"cell-{i}", **cell} for i, cell in enumerate(cells)]


def notebook(cells=None, title="Analysis") -> bytes:
    cells = cells if cells is not None else [
        {"cell_type": "markdown", "metadata": {}, "source": f"# {title}\nSome words."},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "print(6 * 7)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "42\n"}]},
    ]
    return json.dumps({
        "cells": _with_ids(cells), "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }).encode()


def notebook_with_script() -> bytes:
    return notebook([
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "display(HTML(...))",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"text/html": "<script>document.title='pwned:'+document.cookie</script><b>bold</b>"}}]},
    ])


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A .tar.gz of ``files``, the same bytes on every call (gzip's header time is 0:
    a test that builds the archive twice across a second boundary compares equal)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def r_package(name="mypkg", version="1.2.3", depends="R (>= 3.5)", extra=None) -> bytes:
    description = (
        f"Package: {name}\nVersion: {version}\nTitle: A Test Package\n"
        f"Description: Does things\n    over two lines.\nLicense: MIT\nDepends: {depends}\n"
        "Imports: methods\nNeedsCompilation: no\n"
    ).encode()
    files = {f"{name}/DESCRIPTION": description, f"{name}/NAMESPACE": b"export(hello)\n",
             f"{name}/R/hello.R": b"hello <- function() 'hi'\n"}
    files.update(extra or {})
    return tar_gz(files)


def project_archive(name="myproject", revision_text="v1", extra=None) -> bytes:
    files = {
        f"{name}/anaconda-project.yml": f"name: {name}\ndescription: A demo project\ncommands:\n  run:\n    unix: python app.py\n".encode(),
        f"{name}/app.py": f"print('{revision_text}')\n".encode(),
        f"{name}/data/values.csv": b"a,b\n1,2\n",
    }
    files.update(extra or {})
    return tar_gz(files)


ENVIRONMENT = b"""name: analysis
channels:
  - conda-forge
  - defaults
dependencies:
  - python=3.11
  - numpy>=1.26
  - pip
  - pip:
      - requests==2.32.3
"""
