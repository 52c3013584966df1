"""Serving the rendered notebook in an opaque, script-less origin."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ...plugins.api import P, Release, file_response
from .render import TYPE, rendered_html

#: A sandboxed document has an opaque origin: no cookies, no storage, no same-origin
#: requests; with script-src 'none' nothing in it runs at all.
NOTEBOOK_CSP = (
    "sandbox allow-popups; default-src 'none'; script-src 'none'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'"
)


@view_config(context=Release, name="notebook", permission=P.VIEW)
def rendered_notebook(request):
    if len(request.subpath) != 1:
        raise HTTPNotFound()
    dist = request.context.files.get(request.subpath[0])
    rendered = rendered_html(dist) if dist is not None else None
    if rendered is None:
        raise HTTPNotFound()
    response = file_response(request, rendered.committed(), filename=dist.basename.rsplit("/", 1)[-1] + ".html",
                             content_type="text/html", etag=None, shared=False, disposition="inline",
                             csp=NOTEBOOK_CSP)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def latest_notebook(package):
    best = None
    for dist in package.distributions():
        if dist.type == TYPE and (best is None or dist.upload_time > best.upload_time):
            best = dist
    return best


def includeme(config):
    config.scan(__name__)
