"""Retrying conflicting transactions: how often, and with what pause.

pyramid_retry re-runs a request whose transaction raised a retryable error
(``ConflictError``).  Requests that collided tend to collide again if they
restart at once, so each retry first sleeps a random, growing pause (full
jitter: uniform in ``[0, base * 2**attempt]``, capped).  The upload form POST
of staged uploads is never retried (:func:`retry_attempts`): its body is a
stream of any size that pyramid_retry would have to copy to replay it, and
its one write (the stage's blob) conflicts with nothing.  Uploads into one
package line up inside a process (:func:`queue_writer`), so that they do not
conflict in the first place; see docs/reliability.md.
"""
from __future__ import annotations

import logging
import random
import threading
import time

from pyramid_retry import IBeforeRetry
from transaction.interfaces import TransientError

from .middleware import redact

log = logging.getLogger(__name__)

S3_PATH = "/api/s3upload/"
BASE_PAUSE = 0.02  # seconds
MAX_PAUSE = 2.0


def retry_attempts(request):
    """``retry.activate_hook``: one attempt for the upload form POST."""
    # the raw path: decoding it may fail (invalid UTF-8), and this runs before any error view
    if request.method == "POST" and request.environ.get("PATH_INFO", "").startswith(S3_PATH):
        return 1
    return None


def attempt_no_more(request) -> None:
    """Make this attempt the request's last: pyramid_retry retries nothing more.

    For an unavailable database (ZEO's ``ClientDisconnected`` is a
    ``TransientError``): every attempt would wait for the server again, so the
    503 would come only after all of them.
    """
    attempt = request.environ.get("retry.attempt")
    if attempt is not None:
        request.environ["retry.attempts"] = attempt + 1


def pause_before_retry(event) -> None:
    attempt = event.environ.get("retry.attempt", 0)
    log.info("retry %d of %s %s after %s", attempt + 1, event.environ.get("REQUEST_METHOD"),
             redact(event.environ.get("PATH_INFO", "")), event.exception.__class__.__name__)
    time.sleep(random.uniform(0, min(MAX_PAUSE, BASE_PAUSE * 2 ** attempt)))


def includeme(config):
    config.add_subscriber(pause_before_retry, IBeforeRetry)


# -- one writer at a time per hot package, inside this process ----------------------
_STRIPES = [threading.Lock() for _ in range(64)]
QUEUE_TIMEOUT = 60.0  # seconds; a writer stuck longer answers 503


class Busy(TransientError):
    """Waited too long for the other writers of one package (retryable, then 503)."""


def writer_lock(*key) -> threading.Lock:
    """The lock the writers of ``key`` (owner, package) line up on in this process."""
    return _STRIPES[hash(key) % len(_STRIPES)]


def queue_writer(request, *key) -> None:
    """Wait for this process's other writers of ``key`` (owner, package), then
    restart the request's transaction on a fresh snapshot.

    Two uploads into one package write the same derived state (the conda
    records and pre-rendered shard of one name), which no merge can combine;
    run at once they conflict and one is re-run from scratch, body and archive
    inspection included.  Queued here, after the upload was read and checked
    and before anything is written, they commit one after the other and do
    not conflict at all.  The lock is held until the request has finished
    (pyramid_tm committed or aborted); writers in other processes still
    conflict now and then and are retried (``pause_before_retry``).
    """
    if getattr(request, "_anarepo_queued", False):
        return
    lock = writer_lock(*key)
    if not lock.acquire(timeout=QUEUE_TIMEOUT):
        raise Busy(f"waited {QUEUE_TIMEOUT:.0f} s for other uploads into {'/'.join(key)}")
    request._anarepo_queued = True
    request.add_finished_callback(lambda _request: lock.release())
    request.tm.abort()
    request.tm.begin()
