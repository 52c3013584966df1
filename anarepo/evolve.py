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
    lease is taken here, so processes starting meanwhile wait.
    """
    from . import startup

    db = get_db(registry)
    token = startup.current_token(registry)
    if token is None and not dry_run:
        token = startup.acquire(db, startup.lease_seconds(registry))
        try:
            return _evolve(registry, db, token, dry_run)
        finally:
            startup.release(db, token)
    return _evolve(registry, db, token, dry_run)


def _evolve(registry, db, token, dry_run):
    from . import startup

    with db.transaction() as conn:
        pending = registry.anarepo_evolve.pending(conn.root()[ROOT_KEY])
    done = []
    for name, func in pending:
        if dry_run:
            done.append(name)
            continue
        with db.transaction(f"anarepo evolve: {name}") as conn:
            startup.renew(conn, token, startup.lease_seconds(registry))
            root = conn.root()[ROOT_KEY]
            log.info("evolve step %s", name)
            func(root)
            root.finished_evolve_steps.add(name)
        done.append(name)
    return done


def includeme(config):
    config.registry.anarepo_evolve = EvolveSteps()
    config.add_directive("add_evolve_step", add_evolve_step)
    add_evolve_step(config, "anarepo.resources.root.set_folder_containers", "core.folder-containers-1")
