"""Downloading files from the web face: ``/<owner>/<package>/<version>/download/<basename>``.

The bytes and headers are the core's one blob policy (:mod:`anarepo.http.blobs`):
``nosniff``, a ``sandbox`` Content-Security-Policy, and ``attachment`` for
anything but plain text, so a browser never runs uploaded bytes as this site.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..http.blobs import send_blob
from ..resources.packages import Release
from ..security.permissions import P


@view_config(context=Release, name="download", permission=P.VIEW)
def download(request):
    basename = "/".join(request.subpath)
    dist = request.context.files.get(basename)
    if dist is None:
        raise HTTPNotFound()
    return send_blob(request, dist)


def includeme(config):
    config.scan(__name__)
