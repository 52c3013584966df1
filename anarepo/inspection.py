"""Inspection of uploaded files runs in a small bounded pool, under a work budget.

Reading a package's metadata means decompressing and parsing bytes a stranger
chose.  However many uploads arrive at once, at most ``workers`` are inspected
at a time and at most ``queue`` more are queued for a worker; any further upload
waits for a place at most ``queue_wait`` seconds (many uploaders into one package
at once all succeed), then is answered 503 with ``Retry-After``: a flood holds a
server thread per waiting upload for that long at most, never for good.  Each job gets a fresh
:class:`~anarepo.plugins.budget.WorkBudget` (decompressed bytes, members, wall
time) that every archive reader charges.
"""
from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from pyramid.httpexceptions import HTTPServiceUnavailable

from .plugins.budget import BudgetExceeded, Limits, WorkBudget, budget_scope

RETRY_AFTER = "5"


class InspectionPool:
    def __init__(self, workers: int = 2, queue: int = 2, limits: Limits = Limits(), queue_wait: float = 30.0):
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="anarepo-inspect")
        self.slots = threading.BoundedSemaphore(workers + queue)
        self.limits = limits
        self.queue_wait = queue_wait

    def run(self, file_size: int, func, *args, **kw):
        """``func(*args, **kw)`` in the pool under a fresh budget; its result or its exception.
        Waits for a place at most ``queue_wait`` seconds, then HTTPServiceUnavailable."""
        if not self.slots.acquire(timeout=self.queue_wait):
            raise HTTPServiceUnavailable(
                "the server is busy inspecting other uploads; retry in a few seconds",
                headers={"Retry-After": RETRY_AFTER},
            )
        budget = WorkBudget(file_size, self.limits)

        def job():
            with budget_scope(budget):
                return func(*args, **kw)

        try:
            future = self.executor.submit(contextvars.copy_context().run, job)
        except BaseException:
            self.slots.release()
            raise
        # the slot is freed when the work ends, not when the caller stops waiting
        future.add_done_callback(lambda _: self.slots.release())
        try:
            return future.result(timeout=self.limits.seconds * 3)
        except FutureTimeout:
            raise BudgetExceeded(f"inspecting the upload took longer than {self.limits.seconds:g} s; refused") from None

    def shutdown(self):
        self.executor.shutdown(wait=False, cancel_futures=True)


def inspection_pool(registry) -> InspectionPool:
    return registry.anarepo_inspection


def inspect_bounded(path, func, *args, registry=None, **kw):
    """Run one inspection step of the uploaded file at ``path`` (detect, inspect)
    in the pool of ``registry`` (default: the current request's); the budget
    scales with the file's size.  Without a pool (a bare script) it runs here,
    under the same budget."""
    import os

    from pyramid.threadlocal import get_current_registry

    size = os.path.getsize(path)
    pool = getattr(registry or get_current_registry(), "anarepo_inspection", None)
    if pool is None:
        with budget_scope(WorkBudget(size)):
            return func(*args, **kw)
    return pool.run(size, func, *args, **kw)


def includeme(config):
    settings = config.registry.settings
    limits = Limits(
        decompressed_floor=int(settings["anarepo.inspect.decompressed_floor"]),
        decompressed_ratio=int(settings["anarepo.inspect.decompressed_ratio"]),
        members=int(settings["anarepo.inspect.members"]),
        seconds=float(settings["anarepo.inspect.seconds"]),
    )
    config.registry.anarepo_inspection = InspectionPool(
        int(settings["anarepo.inspect.workers"]), int(settings["anarepo.inspect.queue"]), limits,
        queue_wait=float(settings["anarepo.inspect.queue_wait"]))
