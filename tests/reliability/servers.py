"""A real server process for an .ini file, for tests that kill or stop it."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class Server:
    """``pserve``-like: the app of the .ini in waitress, in its own process."""

    def __init__(self, ini):
        self.ini = ini
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = ("import sys; from pyramid.paster import get_app; from waitress import serve;"
                f"serve(get_app({str(ini)!r}), host='127.0.0.1', port={self.port}, threads=8,"
                " max_request_body_size=1 << 30)")
        self.process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def kill(self, signum=signal.SIGKILL) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)
