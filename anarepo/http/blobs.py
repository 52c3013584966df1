"""One way to send a stored file, with one header policy, for every face.

The web download, the API's signed links, conda and PyPI package files, R
archives and a plugin's own files all answer with :func:`send_blob` (a
distribution) or :func:`file_response` (another committed blob, e.g. a rendered
notebook).  Whatever the client, the answer carries:

* ``Content-Type`` from the file name (:func:`anarepo.mediatypes.media_type`;
  YAML as ``text/plain``), never a ``Content-Encoding``;
* ``Content-Length``, ``Accept-Ranges: bytes`` and one ``Range`` (several
  ranges get the whole file), ``Last-Modified`` of the blob
  (:func:`anarepo.bodies.blob_response`);
* ``ETag``: the file's sha256; ``If-None-Match``/``If-Modified-Since`` answer 304;
* ``Cache-Control``: ``public`` or ``private`` by the package's access (a signed
  link is always private), and ``no-cache``: ``anaconda upload --force`` may put
  other bytes at the same URL, so caches keep the file but revalidate;
* ``Content-Disposition``: ``inline`` for plain text and JSON, ``attachment``
  for anything else, with the file's name;
* ``X-Content-Type-Options: nosniff`` and a ``sandbox`` Content-Security-Policy,
  so a browser never runs uploaded bytes as part of this site.

With nginx in front the bytes then leave through ``X-Accel-Redirect``
(:mod:`anarepo.deploy.xaccel`), headers unchanged.  A ``GET`` that is not a
``Range`` request counts as a download (conflict-free, written off the request).
"""
from __future__ import annotations

from ..services.downloads import committed_file, count_download
from .bodies import blob_response
from .mediatypes import media_type

INLINE_TYPES = ("text/plain", "text/csv", "text/tab-separated-values", "application/json")
SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


def file_response(request, path: str, *, filename: str, content_type: str, etag: str | None,
                  shared: bool, disposition: str | None = None, csp: str = SANDBOX_CSP):
    """A committed blob file ``path`` with the header policy of the module docstring."""
    response = blob_response(request, path, content_type)
    if disposition is None:
        disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    response.content_disposition = f'{disposition}; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = csp
    response.headers["Cache-Control"] = f"{'public' if shared else 'private'}, no-cache"
    if etag:
        response.etag = etag
    response.conditional_response = True
    return response


def send_blob(request, dist, *, disposition: str | None = None, shared: bool | None = None, count: bool = True):
    """The stored file of distribution ``dist``; ``shared`` (default: the package is
    public) lets shared caches keep it; ``count`` counts a whole-file ``GET``."""
    content_type = "text/plain" if dist.basename.endswith((".yml", ".yaml")) else media_type(dist.basename)
    if shared is None:
        shared = dist.package.access == "public"
    response = file_response(request, committed_file(request, dist), filename=dist.basename.rsplit("/", 1)[-1],
                             content_type=content_type, etag=dist.sha256, shared=shared, disposition=disposition)
    if count and request.method == "GET" and "Range" not in request.headers:
        count_download(request, dist)
    return response
