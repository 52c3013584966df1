"""The ``ipynb`` type: Jupyter notebooks, validated with nbformat, shown as HTML.

The HTML rendering (nbconvert) is made once per uploaded file, on the write path,
and stored as a blob beside the notebook (``dist.extras["ipynb"]``).  It is served from its own URL with a
Content-Security-Policy ``sandbox`` (an opaque origin: no cookies, no storage)
and ``script-src 'none'``, inside a sandboxed iframe, so nothing in an uploaded
notebook can run with the site's cookies.
"""
from __future__ import annotations

import re
import warnings

from ...plugins.api import FileInfo, InvalidPackage, PACKAGE_RE, PackageType, loads_json
from ..common import read_bounded, stem, timestamp_version

MAX_NOTEBOOK = 50 * 1024 * 1024


def text_of(value) -> str:
    """A notebook's multi-line text: a string, or a list of lines as Jupyter saves it."""
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def notebook_summary(notebook) -> dict:
    """Title (first markdown heading), kernel name and cell count of a validated
    nbformat 4 notebook."""
    cells = notebook.get("cells") or []
    title = ""
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            lines = text_of(cell.get("source")).strip().splitlines()
            if lines:
                title = lines[0].lstrip("# ").strip()[:200]
                break
    kernelspec = notebook.get("metadata", {}).get("kernelspec")
    kernel = kernelspec.get("name", "") if isinstance(kernelspec, dict) else ""
    return {"title": title, "kernel": text_of(kernel), "cells": len(cells)}


def package_name_for(filename: str) -> str:
    """The package a notebook file names: its stem when that is a valid package name,
    else the stem as anaconda-client names it (``Check History.ipynb`` →
    ``check-history``: other characters become ``-``, lower case)."""
    base = stem(filename, ".ipynb")
    if PACKAGE_RE.match(base):
        return base
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]+", "-", base.lower())).strip("-")
    return slug[:128] or "notebook"


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
            node = loads_json(raw, what="the notebook")  # bounded nesting before nbformat parses it
            nb_version = node.get("nbformat") if isinstance(node, dict) else None
            with warnings.catch_warnings():  # older notebooks lack cell ids: still valid
                warnings.simplefilter("ignore")
                # read as Jupyter opens it: nbformat 2 and 3 upgraded to 4, then validated
                notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
                nbformat.validate(notebook)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidPackage(f"{filename}: not a valid notebook ({exc})") from None
        except nbformat.ValidationError as exc:
            raise InvalidPackage(f"{filename}: not a valid notebook ({exc.message})") from None
        except Exception as exc:  # nbformat raises assorted errors on malformed input
            raise InvalidPackage(f"{filename}: not a valid notebook ({exc.__class__.__name__})") from None
        summary = notebook_summary(notebook)
        return FileInfo(
            name=name or package_name_for(filename),
            version=version or timestamp_version(),
            basename=filename,
            summary=summary["title"] or f"Notebook {stem(filename, '.ipynb')}",
            attrs={"kernel": summary["kernel"], "nbformat": nb_version, "cells": summary["cells"]},
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
    # the rendered HTML of older releases' notebooks moves into Distribution.extras
    config.add_evolve_step("anarepo.package_types.ipynb.render.move_html_to_extras", "ipynb.distribution-extras-1")
