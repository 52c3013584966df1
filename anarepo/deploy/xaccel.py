"""Package-file bytes sent by nginx: ``X-Accel-Redirect`` for every face's download.

Every face (web, API, conda, PyPI, notebooks) answers a file download with a
``FileResponse`` over the committed blob, after its own permission check, with
its own headers (ETag, Content-Disposition, CSP, nosniff, Cache-Control).  This
tween, when ``anarepo.x_accel.location`` is set, turns such a ``200`` into an
empty answer naming the blob file in ``X-Accel-Redirect``; nginx then sends the
file from an ``internal`` location aliasing the blob directory (sendfile, Range)
and copies the app's headers (``anarepo gen-config nginx``).  A conditional
request the app can answer (``If-None-Match``/``If-Modified-Since``) is still
answered ``304`` here, by the app.  Off by default: without nginx in front the
app sends the bytes itself.

Settings: ``anarepo.x_accel.location`` (e.g. ``/_anarepo_blobs/``, empty = off) and
``anarepo.x_accel.root`` (the blob directory that location aliases).
"""
from __future__ import annotations

import os
from urllib.parse import quote

HEADER = "X-Accel-Redirect"


def _blob_path(response) -> str | None:
    file = getattr(response.app_iter, "file", None)  # waitress's file wrapper and pyramid's FileIter
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else None


def _not_modified(request, response) -> bool:
    """What webob's conditional response would answer 304 to."""
    if request.if_none_match and response.etag:
        return response.etag in request.if_none_match
    if request.if_modified_since and response.last_modified:
        return response.last_modified <= request.if_modified_since
    return False


def redirect(request, response, location: str, root: str):
    """``response`` (a FileResponse) as an X-Accel-Redirect, or unchanged."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    path = _blob_path(response)
    if path is None:
        return response
    relative = os.path.relpath(os.path.realpath(path), root)
    if relative.startswith(".."):  # not a blob nginx can reach
        return response
    if response.conditional_response and _not_modified(request, response):
        return response
    close = getattr(response.app_iter, "close", None)
    if close is not None:
        close()
    response.app_iter = [b""]
    response.content_length = 0
    response.conditional_response = False  # nginx applies Range to the file
    response.headers[HEADER] = location + quote(relative)
    return response


def x_accel_tween_factory(handler, registry):
    settings = registry.settings
    location = settings.get("anarepo.x_accel.location", "").strip()
    if not location:
        return handler
    root = os.path.realpath(settings["anarepo.x_accel.root"])
    location = location.rstrip("/") + "/"

    def x_accel_tween(request):
        return redirect(request, handler(request), location, root)

    return x_accel_tween


def includeme(config):
    if config.registry.settings.get("anarepo.x_accel.location", "").strip():
        if not config.registry.settings.get("anarepo.x_accel.root"):
            from pyramid.exceptions import ConfigurationError

            raise ConfigurationError("anarepo.x_accel.location needs anarepo.x_accel.root (the blob directory)")
        config.add_tween("anarepo.deploy.xaccel.x_accel_tween_factory", over="pyramid_tm.tm_tween_factory")
