"""``anarepo serve``: workers sharing one port, a graceful restart under load, a graceful stop."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests

from .services import free_port
from .site import DeploySite

pytestmark = [pytest.mark.deploy, pytest.mark.slow]


def children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def test_workers_share_a_port_and_restart_gracefully_under_load(tmp_path):
    site = DeploySite(tmp_path, "zeo", processes=1)
    site.generate()
    site.start_database()
    site.anarepo("init")
    from .services import AppProcess

    port = free_port()
    app = AppProcess(site.ini, port, str(tmp_path / "serve.log"), site.env, workers=2).start()
    try:
        old = children(app.proc.pid)
        assert len(old) == 2
        answers, stop = [], threading.Event()

        def load():
            with requests.Session() as session:  # keep-alive connections, as nginx keeps them
                while not stop.is_set():
                    try:
                        answers.append(session.get(f"http://127.0.0.1:{port}/api/", timeout=60).status_code)
                    except requests.RequestException as exc:
                        answers.append(repr(exc))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(1)
        app.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (children(app.proc.pid) & old or len(children(app.proc.pid)) != 2):
            time.sleep(0.2)
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(60)
        new = children(app.proc.pid)
        assert len(new) == 2 and not new & old, (old, new)
        assert answers and all(a == 200 for a in answers), [a for a in answers if a != 200][:5]
        app.proc.send_signal(signal.SIGTERM)
        assert app.proc.wait(60) == 0
        assert not any(os.path.exists(f"/proc/{pid}") for pid in new)
    finally:
        app.stop()
        site.stop()
