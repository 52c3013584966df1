"""Dashboard notifications: short messages for a user, newest first.

Stored per user in an OOBTree keyed by a sortable time stamp, created on the
first notification (older User records have none), and capped so it never grows
without bound.
"""
from __future__ import annotations

from ..resources.notifications import Inbox, Notification

def notify(user, text: str, link: str | None = None) -> None:
    if getattr(user, "kind", None) != "user":
        return
    user.inbox.add(Notification(text, link))


def inbox_of(user):
    """The user's inbox; None for an organization."""
    return user.inbox if getattr(user, "kind", None) == "user" else None
