"""Staged uploads as stored: one :class:`Stage` per announced upload, kept in the
root's :class:`StagingArea` (the flow is :mod:`anarepo.services.staging`)."""
from __future__ import annotations

from datetime import timedelta

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ..clock import utcnow

DEFAULT_TTL = timedelta(hours=24)


class Stage(Persistent):
    """One announced upload, waiting for its bytes and then its commit."""

    blob = None
    size = None
    md5 = ""
    sha256_received = ""
    used = False  # committed: the id is spent

    def __init__(self, digest, owner, package, version, basename, type_name, uploader,
                 sha256, labels, attrs=None, dependencies=None, description="", expires=None):
        self.digest = digest
        self.owner = owner
        self.package = package
        self.version = version
        self.basename = basename
        self.type = type_name
        self.uploader = uploader
        self.sha256 = sha256
        self.labels = tuple(labels)
        self.attrs = dict(attrs or {})
        self.dependencies = dependencies
        self.description = description or ""
        self.created = utcnow()
        self.expires = expires or (self.created + DEFAULT_TTL)

    @property
    def uploaded(self) -> bool:
        return self.blob is not None

    def is_expired(self, now=None) -> bool:
        return (now or utcnow()) >= self.expires

    def matches(self, owner, package, version, basename) -> bool:
        return (self.owner, self.package.lower(), self.version, self.basename) == (
            owner, package.lower(), version, basename)


class StagingArea(Persistent):
    def __init__(self):
        self.stages = OOBTree()  # digest -> Stage
        self.by_expiry = OOBTree()  # "<iso expiry> <digest>" -> digest
        self.count = Length()
