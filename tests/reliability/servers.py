"""A real server process for an .ini file, for tests that kill or stop it."""
from __future__ import annotations

import signal
import subprocess
import sys

from tests.deploy.services import free_port, wait_for_port


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
        wait_for_port(self.port, 60)

    def kill(self, signum=signal.SIGKILL) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)
