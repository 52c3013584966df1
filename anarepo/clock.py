"""One source of "now", always timezone-aware UTC."""
import time
from datetime import datetime, timezone


def epoch() -> float:
    """Seconds since the epoch (what HTTP validators and index revisions use)."""
    return time.time()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def isoformat(dt) -> str | None:
    """ISO 8601 with an explicit offset, which dateutil and the CLI both accept."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat()


def isoformat_z(dt) -> str | None:
    """ISO 8601 ending in ``Z`` (PEP 700 upload-time)."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
