"""Small helpers shared by the views of every face."""
from __future__ import annotations

from pyramid.response import Response

from ..plugins.faces import face_of


def json_error(status: int, message: str, **extra) -> Response:
    body = {"error": message}
    body.update(extra)
    response = Response(json=body, status=status)
    response.cache_control.no_store = True
    return response


def text_error(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain", charset="utf-8")


def html_error(request, status: int, message: str, **page) -> Response:
    """The error page for people (``page``: more template values)."""
    from pyramid.renderers import render_to_response

    response = render_to_response(
        "error.jinja2", {"status": status, "message": message, **page}, request=request
    )
    response.status = status
    return response


def face_error(request, status: int, message: str, **page) -> Response:
    """An error in the form the face's clients read, as the face was registered
    (``error_format``: JSON for the API, text for package tools, an HTML page
    for people (``page``: more template values), or the face's own function)."""
    fmt = face_of(request).error_format
    if callable(fmt):
        return fmt(request, status, message)
    if fmt == "json":
        return json_error(status, message)
    if fmt == "text":
        return text_error(status, message)
    return html_error(request, status, message, **page)


def safe_next_url(request, candidate: str | None, default: str = "/") -> str:
    """Only local paths: no open redirects through ``came_from``, and nothing but
    printable ASCII (a line break would be a 500 at best, a header at worst)."""
    if (not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate
            or not all(" " < c < "\x7f" for c in candidate)):
        return request.application_url + default
    return request.application_url + candidate


def form_error_status(exc) -> int:
    """The status of a page re-shown with an error: 409 for conflicts, else 400."""
    from ..errors import Conflict

    return 409 if isinstance(exc, Conflict) else 400


def form_outcome(request, values: dict, change):
    """Run a form's ``change()``; on a refused change re-show the page with the error.

    The 4xx status makes pyramid_tm abort, so nothing of a refused change is kept.
    """
    from ..names import InvalidName
    from ..errors import PublishError

    try:
        return change()
    except (InvalidName, PublishError) as exc:
        request.response.status = form_error_status(exc)
        values["error"] = str(exc)
        return values
