"""Error answers: the one place that decides 404, 401 or 403, for every face.

Every view declares its permission against a traversal context; when the
policy refuses, :func:`forbidden` decides, in this order: a refused credential
is 401 (with its reason); what the requester may not *see* is 404, worded
exactly as if it were absent; an anonymous requester gets 401 (the anaconda CLI
then prompts for a login; pip sends its credentials; a browser GET goes to the
login page); an authenticated one who may see but not act gets 403.  A view
that must check a second object (the target of a copy or a transfer) calls
:func:`anarepo.security.checks.authorize` (so does the publishing service for
the package an upload goes into), which raises into the same view; a form that
re-shows itself with the refusal (the browser upload) asks :func:`refusal`.
Each face renders the answer in its own format (:func:`face_error`).  Bad
input raises domain errors that become 400/409/413 here, after pyramid_tm has
aborted the transaction.
"""
from __future__ import annotations

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPError, HTTPFound
from pyramid.location import lineage
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from ..errors import PublishError
from ..names import InvalidName
from ..plugins import InvalidPackage
from ..resources.owners import Owner
from ..resources.packages import Distribution, Package
from ..resources.targets import UploadTarget
from ..security.checks import Refused
from ..security.passwords import WeakPassword
from ..security.permissions import InvalidScope, P
from ..plugins.faces import face_of
from ..security.tokens import TokenError, TokenExists
from ..storage import TooLarge
from .helpers import face_error


def hidden_message(context) -> str:
    """What the requester is told about something it may not see: the absent wording."""
    for node in lineage(context):
        if isinstance(node, Distribution):
            return "file not found"
        if isinstance(node, Package):
            return f"package {node.full_name} not found"
        if isinstance(node, Owner):
            return f"user {node.login!r} not found"
    return "not found"


def missing_message(request) -> str:
    """What was not found, from where traversal stopped (``context``) and the name it missed."""
    context, name = getattr(request, "context", None), getattr(request, "view_name", "")
    if not name:
        if isinstance(context, Owner) and context.kind != "org" and request.matched_route is not None \
                and "{org}" in request.matched_route.pattern:
            return f"organization {context.login!r} not found"
        return "not found"
    if isinstance(context, Owner):
        return f"package {context.login}/{name} not found"
    if isinstance(context, Package):
        return f"release {context.full_name}/{name} not found"
    if getattr(context, "names_owners", False):  # the Root, upload targets, the conda/PyPI/R faces
        return f"user {name!r} not found"
    return "not found"


@notfound_view_config()
def not_found(request):
    if request.bad_credential:
        return face_error(request, 401, request.bad_credential.reason)
    return face_error(request, 404, missing_message(request))


def refusal(request, context) -> tuple[int, str]:
    """The decision for a refused permission on ``context``: (status, message).

    The one statement of the rule (docs/security.md): a refused credential is
    401 with its reason; what the requester may not see is 404, worded as if
    absent; nobody (no credential) is 401; anybody else 403.
    """
    if request.bad_credential:
        return 401, request.bad_credential.reason
    if context is not None and not request.has_permission(P.VIEW, context):
        return 404, hidden_message(context)
    if request.identity is None:
        return 401, "authentication required"
    if isinstance(context, UploadTarget):
        return 403, f"you do not have permission to upload {context.name!r} to {context.owner.login}"
    return 403, "you do not have permission to do that"


def refused_context(exc, request):
    """The object refused: a second object (:func:`anarepo.security.checks.authorize`), or the view's context."""
    return exc.refused if isinstance(exc, Refused) else getattr(request, "context", None)


@forbidden_view_config()
def forbidden(exc, request):
    status, message = refusal(request, refused_context(exc, request))
    if status == 401 and not request.bad_credential and face_of(request).sessions \
            and request.method in ("GET", "HEAD"):  # nobody: a browser goes to the login page
        return HTTPFound(location=request.route_url("login", _query={"came_from": request.path_qs}))
    return face_error(request, status, message)


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
    status = 409 if isinstance(exc, TokenExists) else getattr(exc, "status", 400)
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
