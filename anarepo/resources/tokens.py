"""An access token as stored: its sha256 digest and what it may do (creating, finding
and revoking tokens is :mod:`anarepo.security.tokens`)."""
from __future__ import annotations

from persistent import Persistent

from ..clock import utcnow


class Token(Persistent):
    """The stored half of a token; the raw value is shown once and never kept."""

    def __init__(self, digest, user, name, scopes, expires=None, org=None, **info):
        self.digest = digest
        self.user = user  # login of the user acting through the token
        self.org = org  # login of the organization it is restricted to, or None
        self.name = name
        self.scopes = tuple(scopes)
        self.expires = expires
        self.created = utcnow()
        self.hostname = info.get("hostname") or ""
        self.note_url = info.get("note_url") or ""
        self.strength = info.get("strength") or "strong"
        self.remote_addr = info.get("remote_addr") or ""

    @property
    def id(self) -> str:
        """A public identifier: a prefix of the digest (never the token)."""
        return self.digest[:16]

    @property
    def owner_login(self) -> str:
        return self.org or self.user

    def is_expired(self, now=None) -> bool:
        return self.expires is not None and (now or utcnow()) >= self.expires
