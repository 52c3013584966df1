"""The last line: an exception that escapes every error view (a middleware bug,
an error while rendering the error) still gets a 500 in the face's format,
logged, instead of waitress's default page.  Pyramid's exception views
(``anarepo/views/failures.py``) answer nearly everything before this."""
from __future__ import annotations

import json
import logging
import sys

from .middleware import redact

log = logging.getLogger(__name__)

MESSAGE = "internal server error; the operators have the details in the log"


class LastResort:
    """``json_mounts``: the mounts of faces that answer errors in JSON (by default
    those registered in ``app.registry``)."""

    def __init__(self, app, json_mounts=None):
        self.app = app
        if json_mounts is None:
            faces = getattr(getattr(app, "registry", None), "anarepo_faces", None)
            json_mounts = faces.json_mounts() if faces is not None else ()
        self.json_mounts = frozenset(json_mounts)

    def __getattr__(self, name):  # ``.registry`` and friends of the wrapped app
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception:
            path = environ.get("PATH_INFO", "")
            log.exception("unhandled error on %s %s", environ.get("REQUEST_METHOD"), redact(path))
            if path.lstrip("/").split("/", 1)[0] in self.json_mounts:
                body, ctype = json.dumps({"error": MESSAGE}).encode(), "application/json"
            else:
                body, ctype = (MESSAGE + "\n").encode(), "text/plain; charset=utf-8"
            start_response("500 Internal Server Error", [("Content-Type", ctype), ("Content-Length", str(len(body))),
                                                         ("Cache-Control", "no-store")], sys.exc_info())
            return [body]
