"""Password guessing: exponential back-off per account and per address, shared through
the database, and a cap on concurrent password hashes; the real user still gets in."""
from __future__ import annotations

import base64
import threading
import time

import pytest

from anarepo.security.throttle import delay_for, record_failure, throttle_settings
from anarepo.testing import DEFAULT_PASSWORD, csrf_from, make_settings, web_login

from .hostile import error_of, snapshot

FAST = {"anarepo.login.free_attempts": "3", "anarepo.login.base_delay": "0.3", "anarepo.login.max_delay": "1.2"}


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **FAST)


@pytest.fixture
def alice(app):
    app.make_user("alice")
    app.make_user("bob")
    return "alice"


def web_attempt(testapp, login, password, addr="10.0.0.1", status="*"):
    page = testapp.get("/account/login", extra_environ={"REMOTE_ADDR": addr})
    return testapp.post("/account/login", {"login": login, "password": password, "csrf_token": csrf_from(page)},
                        extra_environ={"REMOTE_ADDR": addr}, status=status)


def api_attempt(testapp, login, password, addr="10.0.0.1", status="*"):
    basic = base64.b64encode(f"{login}:{password}".encode()).decode()
    return testapp.post_json("/api/authentications", {"note": f"t{time.time()}", "scopes": ["api"]},
                             headers={"Authorization": f"Basic {basic}"}, extra_environ={"REMOTE_ADDR": addr},
                             status=status)


def failures(app, key):
    with app.root() as root:
        attempts = root.login_throttle.attempts.get(key)
        return 0 if attempts is None else attempts.failures


def test_web_brute_force_backs_off_and_the_real_user_gets_in_after_the_window(app, testapp, alice):
    for i in range(3):
        assert web_attempt(testapp, "alice", f"wrong-{i}").status_int == 400
    before = snapshot(app)
    r = web_attempt(testapp, "alice", DEFAULT_PASSWORD, status=429)  # even the right password waits
    assert "too many failed logins" in r.text and int(r.headers["Retry-After"]) >= 1
    assert "/account/login" in testapp.get("/account/settings", status=302).location  # not logged in
    assert snapshot(app) == before
    time.sleep(0.35)
    assert web_attempt(testapp, "alice", DEFAULT_PASSWORD, addr="10.0.0.2").status_int == 302
    assert failures(app, "user:alice") == 0  # a success clears the account


def test_the_back_off_doubles_up_to_the_cap(app, testapp, alice):
    settings = throttle_settings(app.registry)
    waits = []
    for i in range(7):
        r = web_attempt(testapp, "alice", f"wrong-{i}", addr=f"10.1.0.{i}")
        assert r.status_int == 400, r.status
        with app.root() as root:
            waits.append(delay_for(root.login_throttle.attempts["user:alice"], settings))
        time.sleep(waits[-1] + 0.02)
    assert waits == [0, 0, 0.3, 0.6, 1.2, 1.2, 1.2]


def test_attempts_inside_the_window_are_refused_without_counting(app, testapp, alice):
    for i in range(3):
        web_attempt(testapp, "alice", f"wrong-{i}")
    for _ in range(5):
        web_attempt(testapp, "alice", "wrong", status=429)
    assert failures(app, "user:alice") == 3


def test_one_address_guessing_many_accounts_is_throttled(app, testapp, alice):
    for login in ("carol", "dave", "erin"):
        assert web_attempt(testapp, login, "guess", addr="10.9.9.9").status_int == 400
    before = snapshot(app)
    web_attempt(testapp, "bob", DEFAULT_PASSWORD, addr="10.9.9.9", status=429)
    assert snapshot(app) == before
    assert web_attempt(testapp, "bob", DEFAULT_PASSWORD, addr="10.9.9.10").status_int == 302


def test_many_addresses_guessing_one_account_are_throttled(app, testapp, alice):
    for i in range(3):
        web_attempt(testapp, "alice", "guess", addr=f"172.16.0.{i}")
    web_attempt(testapp, "alice", "guess", addr="172.16.0.99", status=429)


def test_api_authentications_share_the_throttle(app, testapp, alice):
    for i in range(2):
        assert api_attempt(testapp, "alice", f"wrong-{i}").status_int == 401
    web_attempt(testapp, "alice", "wrong-web")
    before = snapshot(app)
    r = api_attempt(testapp, "alice", DEFAULT_PASSWORD, status=429)
    assert "too many failed logins" in error_of(r) and r.headers["Retry-After"]
    assert snapshot(app) == before  # no token was created
    time.sleep(0.35)
    assert api_attempt(testapp, "alice", DEFAULT_PASSWORD, addr="10.0.0.3").status_int == 200


def test_a_full_set_of_hash_slots_answers_429_at_once(app, testapp, alice):
    slots = app.registry.anarepo_hash_slots.semaphore
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    try:
        before = snapshot(app)
        started = time.monotonic()
        r = api_attempt(testapp, "alice", DEFAULT_PASSWORD, status=429)
        assert time.monotonic() - started < 2 and "at once" in error_of(r)
        web_attempt(testapp, "alice", DEFAULT_PASSWORD, status=429)
        assert snapshot(app) == before
    finally:
        for _ in range(taken):
            slots.release()
    assert failures(app, "user:alice") == 0  # refused for load, not counted as a guess


def test_concurrent_failures_from_many_threads_all_count(app):
    """The counters merge concurrent increments (several processes share them)."""
    db = app.db
    threads = [threading.Thread(target=lambda: [record_failure(db, ["user:zed", "addr:1.2.3.4"]) for _ in range(5)])
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures(app, "user:zed") == 20
    assert failures(app, "addr:1.2.3.4") == 20


def test_a_forged_x_forwarded_for_does_not_make_a_new_address(app, testapp, alice):
    """The address is the peer waitress resolved (REMOTE_ADDR), never the first X-Forwarded-For
    hop a client wrote itself: behind nginx that hop is the client's own claim."""
    for i in range(3):  # three accounts, so only the address counts
        r = api_attempt(testapp, ["alice", "bob", "carol"][i], "wrong", addr="10.0.0.9", status="*")
        assert r.status_int in (401, 403), r
    forged = base64.b64encode(b"dave:wrong").decode()
    r = testapp.post_json("/api/authentications", {"note": "x", "scopes": ["api"]},
                          headers={"Authorization": f"Basic {forged}", "X-Forwarded-For": "203.0.113.7, 10.0.0.9"},
                          extra_environ={"REMOTE_ADDR": "10.0.0.9"}, status=429)
    assert "too many failed logins" in r.text
    assert failures(app, "addr:203.0.113.7") == 0


@pytest.mark.parametrize("first", ["success", "failure"])
def test_a_failure_racing_a_success_is_kept_whichever_commits_first(app, first):
    """The merge of a cleared counter and a concurrent failure is the same in both
    commit orders: the old failures go, the new one stays."""
    import transaction

    from anarepo.db import ROOT_KEY

    for _ in range(3):
        record_failure(app.db, ["user:zed"])
    managers = {side: transaction.TransactionManager(explicit=True) for side in ("success", "failure")}
    conns = {side: app.db.open(transaction_manager=m) for side, m in managers.items()}
    for m in managers.values():
        m.begin()
    attempts = {side: conn.root()[ROOT_KEY].login_throttle.attempts["user:zed"] for side, conn in conns.items()}
    attempts["success"].failures = 0
    attempts["failure"].failures += 1
    attempts["failure"].last = time.time()
    second = "failure" if first == "success" else "success"
    managers[first].commit()
    managers[second].commit()  # conflicts, and the object's merge resolves it
    for conn in conns.values():
        conn.close()
    assert failures(app, "user:zed") == 1


def test_addresses_of_one_ipv6_64_count_as_one(app, testapp, alice):
    """An IPv6 host owns a /64: a fresh address per guess is still the same guesser."""
    for i in range(3):
        api_attempt(testapp, ["alice", "bob", "carol"][i], "wrong", addr=f"2001:db8:1:2::{i + 1}")
    r = api_attempt(testapp, "dave", "wrong", addr="2001:db8:1:2:ffff::9", status=429)
    assert "too many failed logins" in r.text
    assert api_attempt(testapp, "erin", "wrong", addr="2001:db8:1:3::1").status_int in (401, 403)  # another /64


def test_gc_forgets_day_old_counters_and_keeps_the_rest(app):
    from anarepo.services.housekeeping import collect

    record_failure(app.db, ["user:made-up-1", "addr:192.0.2.1"], now=time.time() - 2 * 86400)
    record_failure(app.db, ["user:zed"])
    report = collect(app.db, pack=False)
    assert report.forgotten_logins == 2
    with app.root() as root:
        assert list(root.login_throttle.attempts.keys()) == ["user:zed"]


def change_password_attempt(testapp, current, status="*"):
    page = testapp.get("/account/settings")
    return testapp.post("/account/settings", {"current_password": current, "new_password": "another-pass-1234",
                                              "new_password_confirm": "another-pass-1234",
                                              "csrf_token": csrf_from(page)}, status=status)


def test_the_password_form_of_a_session_is_throttled_like_the_login(app, testapp, alice):
    """A borrowed or stolen session cannot guess its own account's password faster than
    the login form allows: the current password of the password page counts as a guess."""
    web_login(testapp, "alice")
    for i in range(3):
        assert "not correct" in change_password_attempt(testapp, f"wrong-{i}", status=400).text
    before = snapshot(app)
    r = change_password_attempt(testapp, DEFAULT_PASSWORD, status=429)
    assert "too many wrong passwords" in r.text and int(r.headers["Retry-After"]) >= 1
    assert snapshot(app) == before  # the right password changed nothing while throttled
    web_attempt(testapp, "alice", DEFAULT_PASSWORD, addr="10.7.7.7", status=429)  # one counter with the login
    time.sleep(0.35)
    assert change_password_attempt(testapp, DEFAULT_PASSWORD, status=302)
    assert failures(app, "user:alice") == 0
