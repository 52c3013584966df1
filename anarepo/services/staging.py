"""Staged uploads: stage → upload → commit, as anaconda-client's S3-style flow.

``/stage`` records what is about to be uploaded and returns a one-time id; the
form POST (made without credentials) is authorized by that id alone and puts
the bytes into a blob of the stage record; ``/commit`` checks the file and
publishes it, reusing that very blob (no copy).  Until commit nothing is
visible: a stage is not a package, release or file.  A committed stage is only
marked used (one write to the stage itself): removing it from the two BTrees
here in the busy commit transaction made concurrent uploads conflict on their
buckets.  Stages expire (24 hours by default); expired ones, used or not, are
dropped by later writes and by ``anarepo gc``, and blobs of unused ones go away
at the next pack.

Only a sha256 of the id is stored, so the database does not hold usable ids.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from ZODB.blob import Blob

from ..clock import utcnow
from ..resources.staging import DEFAULT_TTL, Stage, StagingArea
from ..security.tokens import secret_digest


@dataclass
class StagedFile:
    """What :func:`anarepo.services.publishing.publish` needs: the committed stage blob and its hashes."""

    blob: Blob
    size: int
    md5: str
    sha256: str
    path: str | None = None


def staging_area(root) -> StagingArea:
    """The root's staging area (made with the root; older roots got it from the
    evolve step ``core.declared-fields-1``)."""
    return root.staging


def _stamp(moment) -> str:
    """A fixed-width UTC time stamp: keys sort in time order."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S%f")


def _expiry_key(stage) -> str:
    return f"{_stamp(stage.expires)} {stage.digest}"


def create_stage(root, *, ttl: timedelta = DEFAULT_TTL, **fields) -> tuple[str, Stage]:
    """Record a stage; return (the raw one-time id, the Stage)."""
    area = staging_area(root)
    raw = secrets.token_urlsafe(32)
    digest = secret_digest(raw)
    stage = Stage(digest, expires=utcnow() + ttl, **fields)
    area.stages[digest] = stage
    area.by_expiry[_expiry_key(stage)] = digest
    area.count.change(1)
    return raw, stage


def get_stage(root, raw) -> Stage | None:
    """The live stage for an id, or None (unknown, malformed or expired)."""
    if not isinstance(raw, str) or not 16 <= len(raw) <= 128:
        return None
    area = staging_area(root)
    stage = area.stages.get(secret_digest(raw))
    if stage is None or stage.used or stage.is_expired():
        return None
    return stage


def mark_used(stage) -> None:
    """The stage was committed: its id is spent (it leaves the area when it expires)."""
    stage.used = True


def attach_file(stage, spooled) -> None:
    """Move a spooled upload into the stage's blob (a rename, never a copy)."""
    blob = Blob()
    blob.consumeFile(spooled.path)
    stage.blob = blob
    stage.size = spooled.size
    stage.md5 = spooled.md5
    stage.sha256_received = spooled.sha256


def staged_file(stage) -> StagedFile:
    return StagedFile(stage.blob, stage.size, stage.md5, stage.sha256_received)


def drop(root, stage) -> None:
    area = staging_area(root)
    if area.stages.get(stage.digest) is not stage:
        return
    del area.stages[stage.digest]
    area.by_expiry.pop(_expiry_key(stage), None)
    area.count.change(-1)


def expire(root, now=None, limit: int = 100) -> int:
    """Drop up to ``limit`` expired stages (oldest first); return how many."""
    area = staging_area(root)
    now = now or utcnow()
    cutoff = f"{_stamp(now)} ~"
    doomed = []
    for key in area.by_expiry.keys(max=cutoff):
        doomed.append(key)
        if len(doomed) >= limit:
            break
    for key in doomed:
        digest = area.by_expiry.pop(key)
        if area.stages.pop(digest, None) is not None:
            area.count.change(-1)
    return len(doomed)
