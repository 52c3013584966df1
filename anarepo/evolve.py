"""Named schema-evolution steps, recorded in the database when done.

Core and plugins register steps with ``config.add_evolve_step(func, name)``; a
fresh database marks them all finished, an older one runs the missing ones in
order at start-up (``anarepo.autoevolve``, default on) or with ``anarepo evolve``.
Each step runs in its own transaction.
"""
from __future__ import annotations

import logging

from .db import ROOT_KEY, get_db

log = logging.getLogger(__name__)


class EvolveSteps:
    def __init__(self):
        self.steps: list[tuple[str, object]] = []

    def add(self, name, func):
        self.steps.append((name, func))

    def pending(self, root):
        return [(n, f) for n, f in self.steps if n not in root.finished_evolve_steps]


def add_evolve_step(config, func, name: str | None = None):
    func = config.maybe_dotted(func)
    name = name or f"{func.__module__}.{func.__name__}"

    def register():
        config.registry.anarepo_evolve.add(name, func)

    config.action(("anarepo.evolve_step", name), register)


def mark_all_finished(registry) -> None:
    """A database created by this code base needs none of the steps."""
    with get_db(registry).transaction("anarepo: mark evolve steps finished") as conn:
        root = conn.root()[ROOT_KEY]
        for name, _ in registry.anarepo_evolve.pending(root):
            root.finished_evolve_steps.add(name)


def evolve(registry, dry_run: bool = False) -> list[str]:
    """Run the pending steps in order; return their names.

    Only the holder of the start-up lease runs steps (:mod:`.startup`): during
    start-up that is this process already; otherwise (``anarepo evolve``) the
    lease is taken here, so processes starting meanwhile wait.  Nothing pending:
    nothing written (a read-only database starts).
    """
    from . import startup

    db = get_db(registry)
    with db.transaction() as conn:
        pending = [name for name, _ in registry.anarepo_evolve.pending(conn.root()[ROOT_KEY])]
    if dry_run or not pending:
        return pending
    token = startup.current_token(registry)
    if token is not None:
        return _run_steps(registry, db, token)
    token = startup.acquire(db, startup.lease_seconds(registry))
    try:
        return _run_steps(registry, db, token)
    finally:
        startup.release(db, token)


def _run_steps(registry, db, token) -> list[str]:
    from . import startup

    done = []
    for name, func in registry.anarepo_evolve.steps:
        with db.transaction(f"anarepo evolve: {name}") as conn:
            root = conn.root()[ROOT_KEY]
            if name in root.finished_evolve_steps:  # done before, or by another process
                continue
            startup.renew(conn, token, startup.lease_seconds(registry))
            log.info("evolve step %s", name)
            func(root)
            root.finished_evolve_steps.add(name)
        done.append(name)
    return done


def includeme(config):
    config.registry.anarepo_evolve = EvolveSteps()
    config.add_directive("add_evolve_step", add_evolve_step)
    add_evolve_step(config, "anarepo.resources.root.set_folder_containers", "core.folder-containers-1")
