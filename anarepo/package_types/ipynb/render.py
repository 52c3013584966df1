"""Notebook → HTML with nbconvert, stored once per uploaded file."""
from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPException
from ZODB.blob import Blob

log = logging.getLogger(__name__)

MAX_RENDERED = 100 * 1024 * 1024
#: nbconvert spends ~10 ms per cell and more per text byte, on the upload's request:
#: larger notebooks are stored and offered for download, not rendered (docs/security.md)
MAX_RENDER_CELLS = 150
MAX_RENDER_TEXT = 1024 * 1024
TOO_LARGE = b"<p>This notebook is too large to show here; download it instead.</p>"


class TooLargeToRender(ValueError):
    pass


def _text_size(notebook) -> int:
    """Characters nbconvert has to convert: sources and non-image outputs."""
    total = 0
    for cell in notebook.get("cells", ()):
        total += len(str(cell.get("source", "")))
        for output in cell.get("outputs", ()) or ():
            total += len(str(output.get("text", "")))
            for mime, value in (output.get("data") or {}).items():
                if not mime.startswith("image/") or mime == "image/svg+xml":
                    total += len(str(value))
    return total


def render_html(source: bytes) -> bytes:
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.reads(source.decode("utf-8"), as_version=4)
    if len(notebook.get("cells", ())) > MAX_RENDER_CELLS or _text_size(notebook) > MAX_RENDER_TEXT:
        raise TooLargeToRender()
    exporter = HTMLExporter(template_name="classic")
    exporter.exclude_input_prompt = False
    body, _ = exporter.from_notebook_node(notebook)
    return body.encode("utf-8")


def render_missing(package, registry) -> None:
    """Render the notebooks of ``package`` that have no HTML yet (new uploads), in the
    bounded inspection pool."""
    from ...plugins.api import inspection_pool

    for dist in package.distributions():
        if dist.type != "ipynb" or getattr(dist, "rendered", None) is not None:
            continue
        with dist.blob.open("r") as f:
            source = f.read()
        try:
            html = inspection_pool(registry).run(len(source), render_html, source)
        except TooLargeToRender:
            html = TOO_LARGE
        except HTTPException:
            raise  # the pool is full: the upload is answered 503 and kept nowhere
        except Exception as exc:  # a valid notebook nbconvert still chokes on
            log.warning("could not render %s: %s", dist.full_name, exc)
            html = b"<p>This notebook could not be rendered; download it instead.</p>"
        if len(html) > MAX_RENDERED:
            html = TOO_LARGE
        blob = Blob()
        with blob.open("w") as out:
            out.write(html)
        dist.rendered = blob
