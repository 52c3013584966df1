"""JSON shapes the anaconda CLI reads (reference §7)."""
from __future__ import annotations

from ...clock import isoformat


def user_json(owner) -> dict:
    return {
        "login": owner.login,
        "name": owner.name or owner.login,
        "user_type": "org" if owner.kind == "org" else "user",
        "created_at": isoformat(owner.created),
        "company": owner.company,
        "location": owner.location,
        "url": owner.url,
        "description": owner.description,
    }
