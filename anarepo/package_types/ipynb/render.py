"""Notebook → HTML with nbconvert, stored once per uploaded file."""
from __future__ import annotations

import logging

from ZODB.blob import Blob

log = logging.getLogger(__name__)

MAX_RENDERED = 100 * 1024 * 1024


def render_html(source: bytes) -> bytes:
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.reads(source.decode("utf-8"), as_version=4)
    exporter = HTMLExporter(template_name="classic")
    exporter.exclude_input_prompt = False
    body, _ = exporter.from_notebook_node(notebook)
    return body.encode("utf-8")


def render_missing(package) -> None:
    """Render the notebooks of ``package`` that have no HTML yet (new uploads)."""
    for dist in package.distributions():
        if dist.type != "ipynb" or getattr(dist, "rendered", None) is not None:
            continue
        with dist.blob.open("r") as f:
            source = f.read()
        try:
            html = render_html(source)
        except Exception as exc:  # a valid notebook nbconvert still chokes on
            log.warning("could not render %s: %s", dist.full_name, exc)
            html = b"<p>This notebook could not be rendered; download it instead.</p>"
        if len(html) > MAX_RENDERED:
            html = b"<p>This notebook is too large to show; download it instead.</p>"
        blob = Blob()
        with blob.open("w") as out:
            out.write(html)
        dist.rendered = blob
