"""Files and their PEP 658 ``.metadata`` under the PyPI face.

``/pypi/<owner>[/label/<label>]/files/<pkey>/<version>/<filename>[.metadata]``:
the file must carry the label (else traversal finds nothing) and the
requester must be able to read its package: the resource carries the
package's ACL, so the policy decides and the forbidden view answers 404.  Bytes come from the committed
blob with ``FileResponse`` (Content-Length, Range, ETag = sha256).
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from ...plugins.api import P, blob_response, committed_file, count_download, media_type
from .face import ROUTE, FileResource
from .index import metadata_of



@view_config(route_name=ROUTE, context=FileResource, request_method=("GET", "HEAD"), permission=P.VIEW)
def download(context, request):
    package, dist = context.package, context.dist
    if context.is_metadata:
        meta = metadata_of(dist)  # kept when the file was published
        if meta is None or meta.data is None:
            raise HTTPNotFound()
        response = Response(body=meta.data, content_type="application/octet-stream")
        response.etag = meta.sha256
    else:
        response = blob_response(request, committed_file(request, dist), media_type(dist.basename))
        response.content_disposition = f'attachment; filename="{dist.basename}"'
        response.etag = dist.sha256
        if request.method == "GET":
            count_download(request, dist)
    response.headers["X-Content-Type-Options"] = "nosniff"
    private = package.access != "public"
    # files can be replaced at the same URL (anaconda upload --force): kept, revalidated
    response.cache_control = f"{'private' if private else 'public'}, no-cache"
    response.conditional_response = True
    return response
