"""Domain errors: a refused change, raised by services, answered by every face.

Each carries ``status``, the HTTP status the faces answer with (``views/errors.py``
renders it in the face's format).  Services raise them before anything is
changed, or the caller's transaction is aborted: a refusal leaves nothing.
"""
from __future__ import annotations


class PublishError(ValueError):
    """A refused change; ``status`` is the HTTP status the faces answer with."""

    status = 400


class Conflict(PublishError):
    status = 409


class FileExists(Conflict):
    """The file is there already; ``existing`` is its Distribution (the PyPI face
    answers an identical re-upload with success)."""

    def __init__(self, message: str, existing):
        super().__init__(message)
        self.existing = existing


class NameTaken(Conflict):
    """The name is held by another package, ``holder`` (of ``owner``).  A requester
    who may not read ``holder`` is answered as for an upload it may not make
    (:func:`anarepo.services.publishing.names_seen_by`), so a 409 never reveals
    a private package."""

    def __init__(self, message: str, holder, owner, name: str):
        super().__init__(message)
        self.holder, self.owner, self.name = holder, owner, name


class Locked(PublishError):
    status = 403


class NotFound(PublishError):
    status = 404


class Forbidden(PublishError):
    """A refusal that is a rule, not a permission (an upload staged by another
    user, an organization token asked for by a non-owner).  Permissions are
    refused through the forbidden view instead (:mod:`anarepo.security.checks`)."""

    status = 403
