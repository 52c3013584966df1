"""Notebook → HTML with nbconvert, stored once per uploaded file.

Rendering runs in the bounded inspection pool, in a child process with a hard
CPU, memory and time limit (:mod:`.sandbox`); a notebook whose render is
stopped is stored and downloadable, and its page says the preview is
unavailable (docs/security.md).
"""
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
TOO_COSTLY = b"<p>Preview unavailable: this notebook takes too long to render; download it instead.</p>"
NOT_RENDERED = b"<p>This notebook could not be rendered; download it instead.</p>"


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


_exporter = None


def _html_exporter():
    """One exporter per process: renders run one per forked process (:mod:`.sandbox`),
    each with the render server's compiled template."""
    global _exporter
    if _exporter is None:
        from nbconvert import HTMLExporter

        _exporter = HTMLExporter(template_name="classic")
        _exporter.exclude_input_prompt = False
    return _exporter


def render_html(source: bytes) -> bytes:
    """nbconvert's HTML of a notebook, here and now (unbounded: call it in a sandbox)."""
    import nbformat

    notebook = nbformat.reads(source.decode("utf-8"), as_version=4)
    if len(notebook.get("cells", ())) > MAX_RENDER_CELLS or _text_size(notebook) > MAX_RENDER_TEXT:
        raise TooLargeToRender()
    body, _ = _html_exporter().from_notebook_node(notebook)
    return body.encode("utf-8")


WARM_UP = (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "markdown",'
           b' "id": "w", "metadata": {}, "source": "*warm*"}, {"cell_type": "code", "id": "c", "metadata": {},'
           b' "execution_count": 1, "source": "x = 1", "outputs": [{"output_type": "stream", "name": "stdout",'
           b' "text": "1"}]}]}')


def warm_up() -> None:
    """Import nbconvert and compile its template with a tiny notebook (the render server)."""
    render_html(WARM_UP)


def render_limits(settings) -> dict:
    return {"cpu_seconds": int(settings["anarepo.render.cpu_seconds"]),
            "seconds": float(settings["anarepo.render.seconds"]),
            "memory": int(settings["anarepo.render.memory"])}


def render_bounded(source: bytes, limits: dict) -> bytes:
    """The HTML to store for ``source``: rendered in a killable child process, or
    the notice of why it was not."""
    from .sandbox import TooCostly, render_isolated

    try:
        kind, value = render_isolated(source, **limits)
    except TooCostly as exc:
        log.warning("notebook render stopped: %s", exc)
        return TOO_COSTLY
    if kind == "too-large":
        return TOO_LARGE
    if kind == "error":  # a valid notebook nbconvert still chokes on
        log.warning("could not render a notebook: %s", value)
        return NOT_RENDERED
    return value


def render_missing(package, registry) -> None:
    """Render the notebooks of ``package`` that have no HTML yet (new uploads), in the
    bounded inspection pool (one slot waits for the child process)."""
    from ...plugins.api import inspection_pool, set_dist_extra

    limits = render_limits(registry.settings)
    for dist in package.distributions():
        if dist.type != TYPE or rendered_html(dist) is not None:
            continue
        with dist.blob.open("r") as f:
            source = f.read()
        try:
            html = inspection_pool(registry).run(len(source), render_bounded, source, limits)
        except HTTPException:
            raise  # the pool is full: the upload is answered 503 and kept nowhere
        except Exception as exc:  # the pool's own deadline
            log.warning("could not render %s: %s", dist.full_name, exc)
            html = NOT_RENDERED
        if len(html) > MAX_RENDERED:
            html = TOO_LARGE
        blob = Blob()
        with blob.open("w") as out:
            out.write(html)
        set_dist_extra(dist, TYPE, blob)


TYPE = "ipynb"  # the type's name, and the key of a notebook's HTML in Distribution.extras


def rendered_html(dist):
    """The Blob of ``dist``'s rendered HTML (None before it is rendered)."""
    from ...plugins.api import dist_extra

    return dist_extra(dist, TYPE)


def move_html_to_extras(root) -> None:
    """Evolve step ``ipynb.distribution-extras-1``: ``dist.rendered`` of older
    releases moves to ``dist.extras["ipynb"]`` (the same blob)."""
    from ...plugins.api import adopt_dist_extra

    adopt_dist_extra(root, "rendered", TYPE)
