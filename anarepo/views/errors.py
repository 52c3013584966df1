"""Error answers: 404 for what the requester may not see, 401/403 otherwise.

A private package is invisible (404) to whoever may not read it; a request
without credentials for an action that needs them gets 401 (the anaconda CLI
then prompts for a login; pip sends its credentials); an authenticated
requester who may read but not act gets 403.  Bad input raises domain errors
that become 400/409/413 here, after pyramid_tm has aborted the transaction.
"""
from __future__ import annotations

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPError, HTTPFound
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from ..names import InvalidName
from ..plugins import InvalidPackage
from ..publish import PublishError
from ..security.passwords import WeakPassword
from ..security.permissions import InvalidScope, P
from ..security.policy import request_face
from ..security.tokens import TokenError, TokenExists
from ..storage import TooLarge
from .helpers import face_error


@notfound_view_config()
def not_found(request):
    if request.bad_credential:
        return face_error(request, 401, request.bad_credential.reason)
    return face_error(request, 404, "not found")


@forbidden_view_config()
def forbidden(exc, request):
    if request.bad_credential:
        return face_error(request, 401, request.bad_credential.reason)
    context = request.context
    if context is not None and not request.has_permission(P.VIEW, context):
        return face_error(request, 404, "not found")
    if request.identity is None:
        if request_face(request) == "web" and request.method in ("GET", "HEAD"):
            return HTTPFound(location=request.route_url("login", _query={"came_from": request.path_qs}))
        return face_error(request, 401, "authentication required")
    return face_error(request, 403, "you do not have permission to do that")


@exception_view_config(BadCSRFToken)
@exception_view_config(BadCSRFOrigin)
def bad_csrf(exc, request):
    if request.bad_credential:
        return face_error(request, 401, request.bad_credential.reason)
    return face_error(request, 400, "the form has expired or did not come from this site; reload the page and try again")


@exception_view_config(InvalidName)
@exception_view_config(InvalidPackage)
@exception_view_config(InvalidScope)
@exception_view_config(WeakPassword)
@exception_view_config(TokenError)
def bad_input(exc, request):
    status = 409 if isinstance(exc, TokenExists) else 400
    return face_error(request, status, str(exc))


@exception_view_config(PublishError)
def publish_error(exc, request):
    return face_error(request, exc.status, str(exc))


@exception_view_config(HTTPError)
def http_error(exc, request):
    """Raised HTTP errors keep their status and get the face's error shape."""
    message = exc.detail or exc.title
    if exc.status_int == 401 and not exc.detail:
        message = request.bad_credential.reason if request.bad_credential else "authentication required"
    response = face_error(request, exc.status_int, str(message))
    for header in ("Allow", "WWW-Authenticate", "Retry-After"):
        if header in exc.headers:
            response.headers[header] = exc.headers[header]
    return response


@exception_view_config(TooLarge)
def too_large(exc, request):
    return face_error(request, 413, str(exc))


def includeme(config):
    config.scan(__name__)
