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

Large replayed index documents go the same way (:class:`DocumentFiles`,
``anarepo.x_accel.documents``): the app still decides per request that the answer
is current, nginx sends the bytes.
"""
from __future__ import annotations

import os
import time
from urllib.parse import quote

from ..http.caching import etag_matches

HEADER = "X-Accel-Redirect"


def _blob_path(response) -> str | None:
    file = getattr(response.app_iter, "file", None)  # waitress's file wrapper and pyramid's FileIter
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else None


def _not_modified(request, response) -> bool:
    """What the app answers 304 to (the one ETag rule; webob's date comparison)."""
    if request.if_none_match and response.etag:
        return etag_matches(request.environ.get("HTTP_IF_NONE_MATCH"), f'"{response.etag}"')
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


# -- replayed index documents as files ---------------------------------------------------
DOCUMENTS_LOCATION = "/_anarepo_documents/"
#: below this, waitress sends a replayed body from memory as fast as nginx would
DOCUMENT_MIN_SIZE = 64 * 1024
#: a dropped document's file stays this long: nginx may still be about to open it
GRACE = 60.0


class DocumentFiles:
    """Replayed public index documents written once to files that nginx sends.

    The replay middleware (``anarepo/http/replay.py``) still decides, per request, that
    a stored answer is current (the revision check) and answers ``304``s itself; it
    then names the file in ``X-Accel-Redirect`` instead of pushing megabytes of
    ``repodata.json`` through waitress.  Each process writes into a directory of
    its own (removed at exit; those of dead processes at start), one file per
    stored answer; a dropped answer's file is removed :data:`GRACE` seconds later.
    """

    def __init__(self, directory: str, location: str = DOCUMENTS_LOCATION, min_size: int = DOCUMENT_MIN_SIZE):
        import atexit
        import secrets
        import shutil
        import socket

        self.root = directory
        self.location = location.rstrip("/") + "/"
        self.min_size = min_size
        os.makedirs(directory, exist_ok=True)
        self._remove_dead(socket.gethostname())
        self.name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        self.dir = os.path.join(directory, self.name)
        os.makedirs(self.dir)
        self.graveyard: list[tuple[float, str]] = []
        atexit.register(shutil.rmtree, self.dir, True)

    def _remove_dead(self, host: str) -> None:
        import shutil

        for name in os.listdir(self.root):
            owner, _, rest = name.rpartition("-")[0].rpartition("-")
            if owner != host or not rest.isdigit():
                continue
            try:
                os.kill(int(rest), 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
            except PermissionError:
                pass

    def publish(self, body: bytes, headers: list) -> tuple[str, list] | None:
        """Write ``body``; return (file name, the headers to answer with) or None."""
        import secrets
        from email.utils import parsedate_to_datetime

        if len(body) < self.min_size:
            return None
        name = secrets.token_hex(12)
        path = os.path.join(self.dir, name)
        with open(path + ".part", "wb") as f:
            f.write(body)
        modified = next((v for k, v in headers if k.lower() == "last-modified"), None)
        if modified:  # nginx sends the file's time as Last-Modified: make it the app's
            try:
                stamp = parsedate_to_datetime(modified).timestamp()
                os.utime(path + ".part", (stamp, stamp))
            except (TypeError, ValueError):
                pass
        os.rename(path + ".part", path)
        redirected = [(k, v) for k, v in headers if k.lower() != "content-length"]
        redirected += [("Content-Length", "0"), (HEADER, f"{self.location}{self.name}/{name}")]
        return name, redirected

    def forget(self, name: str) -> None:
        now = time.monotonic()
        self.graveyard.append((now, name))
        while self.graveyard and now - self.graveyard[0][0] > GRACE:
            _, old = self.graveyard.pop(0)
            try:
                os.unlink(os.path.join(self.dir, old))
            except FileNotFoundError:
                pass


def document_files(settings) -> DocumentFiles | None:
    """From ``anarepo.x_accel.documents`` (a directory nginx's documents location aliases)."""
    directory = (settings.get("anarepo.x_accel.documents") or "").strip()
    if not directory:
        return None
    return DocumentFiles(directory, settings.get("anarepo.x_accel.documents_location") or DOCUMENTS_LOCATION,
                         int(settings.get("anarepo.x_accel.documents_min_size", DOCUMENT_MIN_SIZE)))
