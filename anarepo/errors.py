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


class Locked(PublishError):
    status = 403


class NotFound(PublishError):
    status = 404


class Forbidden(PublishError):
    """Authenticated (or anonymous) and visible, but not allowed."""

    status = 403


class Unauthenticated(PublishError):
    """The change needs credentials and the request carries none (valid)."""

    status = 401
