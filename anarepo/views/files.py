"""Downloading files from the web face: ``/<owner>/<package>/<version>/download/<basename>``.

User-uploaded bytes are served so that a browser never runs them as part of this
site: ``nosniff``, a ``sandbox`` Content-Security-Policy, and ``attachment`` for
anything but plain text.
"""
from __future__ import annotations


from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..http.bodies import blob_response
from ..services.downloads import committed_file
from ..http.mediatypes import media_type
from ..resources.packages import Release
from ..security.permissions import P

INLINE_TYPES = ("text/plain", "text/csv", "text/tab-separated-values", "application/json")
SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


def file_response(request, dist, disposition: str | None = None):
    """A FileResponse on the committed blob with safe headers, ETag and Range."""
    content_type = media_type(dist.basename)
    if dist.basename.endswith((".yml", ".yaml")):
        content_type = "text/plain"
    response = blob_response(request, committed_file(request, dist), content_type)
    name = dist.basename.rsplit("/", 1)[-1]
    if disposition is None:
        disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    response.content_disposition = f'{disposition}; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.etag = dist.sha256
    response.conditional_response = True
    return response


def record_download(request, dist) -> None:
    """Count the download through the conflict-free, off-request counter."""
    from ..services.downloads import count_download

    count_download(request, dist)


@view_config(context=Release, name="download", permission=P.VIEW)
def download(request):
    basename = "/".join(request.subpath)
    dist = request.context.files.get(basename)
    if dist is None:
        raise HTTPNotFound()
    record_download(request, dist)
    return file_response(request, dist)


def includeme(config):
    config.scan(__name__)
