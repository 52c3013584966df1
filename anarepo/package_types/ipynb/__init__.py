"""The ``ipynb`` type: Jupyter notebooks, validated with nbformat, shown as HTML.

The HTML rendering (nbconvert) is made once per uploaded file, on the write path,
and stored as a blob beside the notebook.  It is served from its own URL with a
Content-Security-Policy ``sandbox`` (an opaque origin: no cookies, no storage)
and ``script-src 'none'``, inside a sandboxed iframe, so nothing in an uploaded
notebook can run with the site's cookies.
"""
from __future__ import annotations

import warnings

from ...bounded import loads_json
from ...plugins import FileInfo, InvalidPackage, PackageType
from ..common import read_bounded, stem, timestamp_version

MAX_NOTEBOOK = 50 * 1024 * 1024


class NotebookType(PackageType):
    name = "ipynb"
    title = "Notebook"
    detect_priority = 40

    def detect(self, filename, path) -> bool:
        return filename.lower().endswith(".ipynb")

    def inspect(self, path, filename, name=None, version=None) -> FileInfo:
        import nbformat

        raw = read_bounded(path, MAX_NOTEBOOK, "the notebook")
        try:
            node = loads_json(raw, what="the notebook")
            notebook = nbformat.from_dict(node)
            with warnings.catch_warnings():  # older notebooks lack cell ids: still valid
                warnings.simplefilter("ignore")
                nbformat.validate(notebook)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidPackage(f"{filename}: not a valid notebook ({exc})") from None
        except nbformat.ValidationError as exc:
            raise InvalidPackage(f"{filename}: not a valid notebook ({exc.message})") from None
        except Exception as exc:  # nbformat raises assorted errors on malformed input
            raise InvalidPackage(f"{filename}: not a valid notebook ({exc.__class__.__name__})") from None
        title = ""
        for cell in notebook.get("cells", []):
            if cell.get("cell_type") == "markdown":
                first = cell.get("source", "").strip().splitlines()
                if first:
                    title = first[0].lstrip("# ").strip()[:200]
                    break
        kernel = notebook.get("metadata", {}).get("kernelspec", {}).get("name", "")
        return FileInfo(
            name=name or stem(filename, ".ipynb"),
            version=version or timestamp_version(),
            basename=filename,
            summary=title or f"Notebook {stem(filename, '.ipynb')}",
            attrs={"kernel": kernel, "nbformat": notebook.get("nbformat"), "cells": len(notebook.get("cells", []))},
        )

    def check_placement(self, info, package_name, version, basename) -> None:
        if not basename.lower().endswith(".ipynb") or "/" in basename:
            raise InvalidPackage(f"notebook file names end in .ipynb ({basename!r})")

    def package_changed(self, event, registry) -> None:
        if event.removed or "ipynb" not in event.package.package_types:
            return  # a package without notebooks: nothing to render, no file to read
        from .render import render_missing

        render_missing(event.package, registry)

    page_template = "anarepo.package_types.ipynb:templates/page.jinja2"

    def install_hints(self, request, package, label="main"):
        return [("Download", f"anaconda download {package.full_name}")]

    def page_context(self, request, package) -> dict:
        from .views import latest_notebook

        dist = latest_notebook(package)
        if dist is None:
            return {"notebook": None}
        url = request.resource_url(dist.release, "notebook", dist.basename)
        return {"notebook": dist, "url": url}


def includeme(config):
    config.add_package_type(NotebookType())
    config.include(".views")
