"""Checking a permission on an object other than the view's context.

A view declares the permission it needs on its context; when it (or a service
it calls) must also check a second object — a copy's or a transfer's target,
the package an upload goes into — it calls :func:`authorize`.  A refusal raises
:class:`Refused`, an ``HTTPForbidden``, so the one forbidden view
(:mod:`anarepo.views.errors`) decides 404, 401 or 403 exactly as for a declared
permission.  Services may call it: it decides nothing itself.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden


class Refused(HTTPForbidden):
    """The policy refused ``permission`` on ``refused``, an object other than the view's context."""

    def __init__(self, refused, result):
        super().__init__(result=result)
        self.refused = refused


def authorize(request, permission: str, context) -> None:
    """Refuse (into the forbidden view) unless the requester has ``permission`` on ``context``."""
    result = request.has_permission(permission, context)
    if not result:
        raise Refused(context, result)
