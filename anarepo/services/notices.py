"""Channel notices: short messages an owner shows to the users of its channels.

``anaconda channel notice`` manages them through the API; a notice is a
draft until published, then archived (or deleted).  Stored per owner in
``owner.notices`` (an OOBTree made with the owner).
"""
from __future__ import annotations

from datetime import datetime

from ..clock import utcnow
from ..errors import NotFound, PublishError
from ..resources.notices import Notice

LEVELS = ("info", "warning", "critical")
STATUSES = ("draft", "published", "archived")
MAX_MESSAGE = 600


def check_message(message) -> str:
    if not isinstance(message, str) or not message.strip():
        raise PublishError("a notice needs a message")
    if len(message) > MAX_MESSAGE:
        raise PublishError(f"notices are at most {MAX_MESSAGE} characters")
    return message


def check_level(level) -> str:
    if level not in LEVELS:
        raise PublishError(f"level must be one of {', '.join(LEVELS)}")
    return level


def check_status(status) -> str:
    if status not in STATUSES:
        raise PublishError(f"status must be one of {', '.join(STATUSES)}")
    return status


def parse_expiry(value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise PublishError("expires_at must be an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PublishError("expires_at must be an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise PublishError("expires_at needs a time zone")
    return moment


def notices_of(owner):
    return owner.notices


def get_notice(owner, notice_id: str) -> Notice:
    notice = notices_of(owner).get(notice_id) if isinstance(notice_id, str) else None
    if notice is None:
        raise NotFound(f"notice {notice_id} not found")
    return notice


def create_notice(owner, message, level="info", expires_at=None, author="") -> Notice:
    notice = Notice(check_message(message), check_level(level or "info"), parse_expiry(expires_at), author)
    owner.notices[notice.id] = notice
    return notice


def update_notice(notice, **changes) -> None:
    if changes.get("message") is not None:
        notice.message = check_message(changes["message"])
    if changes.get("level") is not None:
        notice.level = check_level(changes["level"])
    if changes.get("status") is not None:
        notice.status = check_status(changes["status"])
    if "expires_at" in changes:
        notice.expires_at = parse_expiry(changes["expires_at"])
    notice.updated_at = utcnow()


def delete_notice(owner, notice) -> None:
    del owner.notices[notice.id]


def active_notices(owner) -> list:
    now = utcnow()
    return [n for n in notices_of(owner).values() if n.is_active(now)]
