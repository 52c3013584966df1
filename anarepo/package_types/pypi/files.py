"""Files and their PEP 658 ``.metadata`` under the PyPI face.

``/pypi/<owner>[/label/<label>]/files/<pkey>/<version>/<filename>[.metadata]``:
the file must carry the label (else traversal finds nothing) and the
requester must be able to read its package: the resource carries the
package's ACL, so the policy decides and the forbidden view answers 404.  Files
are sent by the core's one blob policy (``send_blob``); ``.metadata`` is bytes
kept on the distribution, answered with the same caching headers.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from ...plugins.api import P, send_blob
from .face import ROUTE, FileResource
from .index import metadata_of


@view_config(route_name=ROUTE, context=FileResource, request_method=("GET", "HEAD"), permission=P.VIEW)
def download(context, request):
    package, dist = context.package, context.dist
    if not context.is_metadata:
        return send_blob(request, dist)
    meta = metadata_of(dist)  # kept when the file was published
    if meta is None or meta.data is None:
        raise HTTPNotFound()
    response = Response(body=meta.data, content_type="application/octet-stream")
    response.etag = meta.sha256
    response.headers["X-Content-Type-Options"] = "nosniff"
    # files can be replaced at the same URL (anaconda upload --force): kept, revalidated
    response.cache_control = f"{'public' if package.access == 'public' else 'private'}, no-cache"
    response.conditional_response = True
    return response
