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
    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):  # ``.registry`` and friends of the wrapped app
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception:
            path = environ.get("PATH_INFO", "")
            log.exception("unhandled error on %s %s", environ.get("REQUEST_METHOD"), redact(path))
            if path == "/api" or path.startswith("/api/"):
                body, ctype = json.dumps({"error": MESSAGE}).encode(), "application/json"
            else:
                body, ctype = (MESSAGE + "\n").encode(), "text/plain; charset=utf-8"
            start_response("500 Internal Server Error", [("Content-Type", ctype), ("Content-Length", str(len(body))),
                                                         ("Cache-Control", "no-store")], sys.exc_info())
            return [body]
