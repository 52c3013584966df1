"""A user's dashboard notifications as stored: an :class:`Inbox` of :class:`Notification`
(sending one is :func:`anarepo.services.notifications.notify`)."""
from __future__ import annotations

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ..clock import utcnow

MAX_NOTIFICATIONS = 200


class Notification(Persistent):
    def __init__(self, text: str, link: str | None = None):
        self.text = text
        self.link = link
        self.created = utcnow()
        self.read = False


class Inbox(Persistent):
    def __init__(self):
        self.items = OOBTree()  # "<iso time>-<n>" -> Notification
        self.unread = Length()
        self._serial = 0

    def add(self, notification: Notification) -> None:
        self._serial += 1
        key = f"{notification.created.strftime('%Y%m%d%H%M%S%f')}-{self._serial:08d}"
        self.items[key] = notification
        self.unread.change(1)
        while len(self.items) > MAX_NOTIFICATIONS:
            oldest = self.items.minKey()
            if not self.items[oldest].read:
                self.unread.change(-1)
            del self.items[oldest]

    def newest(self, limit: int = 50):
        keys = list(self.items.keys())[-limit:]
        return [self.items[k] for k in reversed(keys)]

    def mark_all_read(self) -> None:
        for item in self.items.values():
            if not item.read:
                item.read = True
        self.unread.set(0)
