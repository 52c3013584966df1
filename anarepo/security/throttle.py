"""Login throttling: exponential back-off per account and per client address, and a
cap on concurrent password hashes.

Every failed password login (web form or ``POST /api/authentications``) is
counted twice, under ``user:<login>`` and ``addr:<client address>``, in
``root.login_throttle`` — in its own transaction, because the refused request's
transaction is aborted.  The counters are conflict-free (concurrent failures from
several processes add up), so every process of a deployment sees the same
back-off.  After ``free`` failures, the next attempt on that key must wait
``base * 2**(failures - free)`` seconds (at most ``max_delay``) after the last
failure; earlier attempts are answered 429 with ``Retry-After`` *without* running
argon2.  A success clears the account's counter; counters older than
``forget_after`` no longer count.

argon2id is slow on purpose: a process runs at most ``max_hashes`` password checks
at once; beyond that a login is answered 429 at once instead of queueing behind
the others (12 clients would otherwise slow every request of the server).
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.httpexceptions import HTTPTooManyRequests

from ..db import in_own_transaction


@dataclass(frozen=True)
class ThrottleSettings:
    free: int = 5
    base: float = 1.0
    max_delay: float = 900.0
    forget_after: float = 24 * 3600.0
    max_hashes: int = 4


class Attempts(Persistent):
    """Failures of one key; concurrent increments merge instead of conflicting."""

    def __init__(self):
        self.failures = 0
        self.last = 0.0

    def _p_resolveConflict(self, old, committed, new):
        """Each side either added failures to the old count, or cleared it (a success,
        or a counter forgotten after a day) and then added some.  The merge keeps what
        both sides added since, and the old count only when neither cleared it: the
        same in either commit order (a failure racing a success is never lost)."""
        base = old.get("failures", 0) if old else 0
        sides = [committed.get("failures", 0), new.get("failures", 0)]
        cleared = any(count < base for count in sides)
        added = sum(count if count < base else count - base for count in sides)
        merged = dict(committed)
        merged["failures"] = added if cleared else base + added
        merged["last"] = max(committed.get("last", 0.0), new.get("last", 0.0))
        return merged


class LoginThrottle(Persistent):
    def __init__(self):
        self.attempts = OOBTree()  # "user:<login>" | "addr:<address>" -> Attempts


def create_login_throttle(root) -> None:
    """Evolve step: databases from before throttling get the (empty) store."""
    root.login_throttle = LoginThrottle()


class Throttled(HTTPTooManyRequests):
    def __init__(self, message: str, retry_after: float):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after + 0.999)))})


def address_key(address: str) -> str:
    """The throttle key of a client address.  One IPv6 host holds a whole /64 (and
    picks a fresh address for every connection if it likes): it counts as one."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"addr:{address[:100]}"
    if ip.version == 4:
        return f"addr:{ip}"
    if ip.ipv4_mapped is not None:
        return f"addr:{ip.ipv4_mapped}"
    return f"addr:{ipaddress.ip_network(f'{ip}/64', strict=False)}"


def keys_for(login: str, address: str | None) -> list[str]:
    keys = [f"user:{(login or '').strip().lower()[:100]}"]
    if address:
        keys.append(address_key(address))
    return keys


def forget_old(db, settings: ThrottleSettings = ThrottleSettings(), now: float | None = None) -> int:
    """Drop counters whose last failure is older than ``forget_after`` (they no longer
    count): made-up logins and passing addresses would otherwise stay for ever."""
    import itertools

    now = time.time() if now is None else now
    forgotten, after = 0, None
    while True:
        dropped = []

        def change(root):
            attempts = root.login_throttle.attempts
            old = (key for key, a in attempts.items(min=after) if now - a.last > settings.forget_after)
            dropped[:] = itertools.islice(old, 1000)
            for key in dropped:
                del attempts[key]

        in_own_transaction(db, change, documents=False)  # counters no index document shows
        forgotten += len(dropped)
        if len(dropped) < 1000:
            return forgotten
        after = dropped[-1]  # the next batch starts past the keys already looked at


def delay_for(attempts: Attempts, settings: ThrottleSettings) -> float:
    if attempts.failures < settings.free:
        return 0.0
    return min(settings.max_delay, settings.base * 2 ** (attempts.failures - settings.free))


def wait_left(root, keys, settings: ThrottleSettings, now: float | None = None) -> float:
    """Seconds until an attempt on these keys is allowed again (0: now)."""
    now = time.time() if now is None else now
    left = 0.0
    for key in keys:
        attempts = root.login_throttle.attempts.get(key)
        if attempts is None or now - attempts.last > settings.forget_after:
            continue
        left = max(left, attempts.last + delay_for(attempts, settings) - now)
    return left


def record_failure(db, keys, now: float | None = None) -> None:
    now = time.time() if now is None else now

    def change(root):
        for key in keys:
            attempts = root.login_throttle.attempts.get(key)
            if attempts is None:
                attempts = root.login_throttle.attempts[key] = Attempts()
            elif now - attempts.last > ThrottleSettings.forget_after:
                attempts.failures = 0
            attempts.failures += 1
            attempts.last = now

    in_own_transaction(db, change, documents=False)  # counters no index document shows


def record_success(db, login: str, key: str | None = None) -> None:
    """Clear the account's counter (``key``: another counter of it, e.g. ``totp:<login>``)."""
    key = key or keys_for(login, None)[0]

    def change(root):
        attempts = root.login_throttle.attempts.get(key)
        if attempts is not None and attempts.failures:
            attempts.failures = 0

    in_own_transaction(db, change, documents=False)  # counters no index document shows


class HashSlots:
    """At most ``size`` password checks at once in this process."""

    def __init__(self, size: int):
        self.semaphore = threading.BoundedSemaphore(size)

    @contextmanager
    def slot(self):
        if not self.semaphore.acquire(blocking=False):
            raise Throttled("too many logins at once; retry in a moment", 1)
        try:
            yield
        finally:
            self.semaphore.release()


def throttle_settings(registry) -> ThrottleSettings:
    return registry.anarepo_login_throttle


def includeme(config):
    settings = config.registry.settings
    defaults = ThrottleSettings()
    config.registry.anarepo_login_throttle = ThrottleSettings(
        free=int(settings.get("anarepo.login.free_attempts", defaults.free)),
        base=float(settings.get("anarepo.login.base_delay", defaults.base)),
        max_delay=float(settings.get("anarepo.login.max_delay", defaults.max_delay)),
        max_hashes=int(settings.get("anarepo.login.max_concurrent_hashes", defaults.max_hashes)),
    )
    config.registry.anarepo_hash_slots = HashSlots(config.registry.anarepo_login_throttle.max_hashes)
    config.add_evolve_step("anarepo.security.throttle.create_login_throttle", "security.login-throttle-1")
