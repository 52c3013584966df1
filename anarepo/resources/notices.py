"""A channel notice as stored, per owner (the rules and operations are :mod:`anarepo.services.notices`)."""
from __future__ import annotations

import uuid

from persistent import Persistent

from ..clock import utcnow


class Notice(Persistent):
    def __init__(self, message: str, level: str = "info", expires_at=None, author: str = ""):
        self.id = str(uuid.uuid4())
        self.message = message
        self.level = level
        self.status = "draft"
        self.expires_at = expires_at
        self.author = author
        self.created_at = self.updated_at = utcnow()

    def is_active(self, now=None) -> bool:
        return self.status == "published" and (self.expires_at is None or self.expires_at > (now or utcnow()))
