"""One work budget for every archive walk and parse of an uploaded file.

A hostile upload of a few kilobytes can decompress to gigabytes, hold millions
of members or carry metadata that parses into a huge object graph.  Every reader
of uploaded bytes charges what it does to the budget of the current inspection:

* ``decompressed``: bytes that came out of a decompressor (or were skipped
  through one), however the archive is nested;
* ``members``: archive members walked (tar headers, zip entries, JSON entries);
* ``seconds``: wall time since the inspection started.

A breach raises :class:`BudgetExceeded` (an ``InvalidPackage``, answered 413).
The budget lives in a context variable: the bounded inspection pool
(``anarepo.inspection``) sets a fresh one per upload; code outside it (command
line tools, tests) gets a default one per call of :func:`work_budget`.
Numbers are in ``docs/security.md``.
"""
from __future__ import annotations

import contextvars
import io
import time
from contextlib import contextmanager
from dataclasses import dataclass

from .interface import InvalidPackage

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    #: decompressed bytes: a floor plus a multiple of the uploaded size, with a ceiling
    decompressed_floor: int = 32 * MiB
    decompressed_ratio: int = 16
    decompressed_ceiling: int = 8 << 30
    members: int = 50_000
    seconds: float = 10.0


class BudgetExceeded(InvalidPackage):
    """The upload needs more work to inspect than any honest package does."""

    status = 413


class WorkBudget:
    def __init__(self, file_size: int = 0, limits: Limits = Limits()):
        self.limits = limits
        self.max_bytes = min(limits.decompressed_ceiling,
                             limits.decompressed_floor + limits.decompressed_ratio * max(file_size, 0))
        self.decompressed = 0
        self.members = 0
        self.started = time.monotonic()

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.limits.seconds:
            raise BudgetExceeded(f"inspecting the upload took longer than {self.limits.seconds:g} s; refused")

    def charge_bytes(self, count: int, what: str = "the archive") -> None:
        self.decompressed += count
        if self.decompressed > self.max_bytes:
            raise BudgetExceeded(
                f"{what} expands beyond {self.max_bytes} bytes (the limit for an upload of this size); refused"
            )
        self.check_time()

    def charge_member(self, what: str = "the archive") -> None:
        self.members += 1
        if self.members > self.limits.members:
            raise BudgetExceeded(f"{what} has more than {self.limits.members} members; refused")
        if self.members % 64 == 0:
            self.check_time()

    def reader(self, raw, what: str = "the archive") -> "BudgetReader":
        """``raw`` (a decompressing stream) with every byte read or skipped charged."""
        return BudgetReader(raw, self, what)


_current: contextvars.ContextVar[WorkBudget | None] = contextvars.ContextVar("anarepo_work_budget", default=None)


def work_budget(file_size: int = 0) -> WorkBudget:
    """The budget of the running inspection (a fresh default one outside the pool)."""
    budget = _current.get()
    return budget if budget is not None else WorkBudget(file_size)


@contextmanager
def budget_scope(budget: WorkBudget):
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


class BudgetReader(io.RawIOBase):
    """A read-only stream that charges what goes through it, forward seeks included
    (a gzip or bzip2 stream decompresses everything it seeks over)."""

    def __init__(self, raw, budget: WorkBudget, what: str):
        self.raw, self.budget, self.what = raw, budget, what
        self.pos = 0

    def readable(self):
        return True

    def seekable(self):
        return getattr(self.raw, "seekable", lambda: False)()

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        self.budget.charge_bytes(len(data), self.what)
        self.pos += len(data)
        buffer[: len(data)] = data
        return len(data)

    def read(self, size=-1):
        if size is None or size < 0:  # never read an unbounded stream at once
            chunks = []
            while chunk := self.read(1 << 16):
                chunks.append(chunk)
            return b"".join(chunks)
        return super().read(size)

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self.pos + offset}.get(whence)
        if target is None:
            raise io.UnsupportedOperation("seek from the end of a compressed stream")
        # forward: the decompressor runs over the gap; backward: it starts over
        self.budget.charge_bytes(target - self.pos if target >= self.pos else target, self.what)
        self.pos = self.raw.seek(target)
        return self.pos
