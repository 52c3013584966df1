"""Buffered download counts reach the database when the server stops normally:
on SIGTERM (the normal stop signal) and on Ctrl-C (exit handlers)."""
from __future__ import annotations

import signal

import pytest
import requests

from tests.functional.test_cli import ini  # noqa: F401 - the fixture
from tests.reliability.servers import Server
from tests.reliability.crash import harness_for

pytestmark = pytest.mark.usefixtures("ini")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_download_counts_are_written_when_the_server_stops(ini, signum):
    text = ini.read_text().replace("[app:main]", "[app:main]\nanarepo.download_flush_seconds = 3600", 1)
    ini.write_text(text)  # nothing is flushed while the server runs
    app = harness_for(ini)
    app.make_user("alice")
    app.publish_file("alice", "counted", "1", "counted.bin", b"bytes to count")
    app.close()
    server = Server(ini)
    try:
        for _ in range(7):
            response = requests.get(f"{server.url}/api/download/alice/counted/1/counted.bin")
            assert response.content == b"bytes to count"
    finally:
        status = server.kill(signum)
    assert status != -signal.SIGKILL
    app = harness_for(ini)
    try:
        with app.root() as root:
            dist = root.owners["alice"].get_package("counted").releases["1"].files["counted.bin"]
            assert dist.downloads() == 7
    finally:
        app.close()
