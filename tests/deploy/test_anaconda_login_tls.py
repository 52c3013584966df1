"""Plain ``anaconda login`` against a TLS deployment (issue 19): the unmodified anaconda-client
1.16 CLI — no legacy variable, no ``--username`` — runs its browser flow against anarepo
behind nginx (``anarepo gen-config`` with a certificate of a test CA, trusted through
``REQUESTS_CA_BUNDLE`` as a user of a private CA does), Chromium under Playwright plays
the person at the browser, then ``anaconda upload`` and ``anaconda auth --create`` work
with the stored token.  README, "Logging in with anaconda login"."""
from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import sys
import tempfile
import time

import pytest
import requests

from tests.browser.conftest import CHROMIUM
from tests.clients.anaconda_builders import conda_tar_bz2
from tests.clients.anaconda_cli import AnacondaCli

from .site import DeploySite
from .tls import make_pki

pytestmark = [pytest.mark.deploy, pytest.mark.slow, pytest.mark.clients, pytest.mark.browser]

PASSWORD = "a-long-enough-password"
BROWSER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oidc_browser.py")
#: anaconda-client's fixed redirect_uri is http://127.0.0.1:8000/auth/oidc: its listener needs the port
LISTENER_PORT = 8000


def need_tools():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: CI must run the browser tests", pytrace=False)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the client's HTTPServer binds
        try:
            probe.bind(("127.0.0.1", LISTENER_PORT))
        except OSError:
            pytest.fail(f"port {LISTENER_PORT} is taken: anaconda-client's login listener needs it")


def browser_command(tmp_path) -> str:
    """``$BROWSER``: one executable path (webbrowser appends the URL)."""
    path = tmp_path / "anarepo-test-browser"
    path.write_text(f"#!/bin/sh\nexec {sys.executable} {BROWSER_SCRIPT} \"$@\"\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def browser_log(path, runs: int) -> list[dict]:
    """The browser's record of its ``runs`` runs (it may finish just after the CLI)."""
    deadline = time.monotonic() + 60
    while True:
        entries = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        if len(entries) >= runs or time.monotonic() > deadline:
            return entries
        time.sleep(0.2)


@pytest.fixture
def listener_port():
    """Port 8000 for this test alone: runs of the suite side by side on one machine take turns."""
    import fcntl

    with open(os.path.join(tempfile.gettempdir(), "anarepo-anaconda-login-8000.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        need_tools()
        yield LISTENER_PORT


def test_plain_anaconda_login_through_the_browser_against_tls(tmp_path, listener_port):
    pki = make_pki(tmp_path / "pki")
    site = DeploySite(tmp_path / "site", "zeo", processes=1, tls=pki)
    try:
        site.start()
        site.anarepo("user", "add", "alice", "--email", "alice@example.com", "--password-stdin",
                     input=PASSWORD + "\n")
        # the client trusts the test CA as users of a private CA do; nothing else is changed
        ca_env = {"REQUESTS_CA_BUNDLE": str(pki.ca_pem)}
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(site.url + "/.well-known/openid-configuration", timeout=10)
        discovery = requests.get(site.url + "/.well-known/openid-configuration", verify=str(pki.ca_pem),
                                 timeout=10).json()
        assert discovery["issuer"] == site.url  # https and the port, from nginx's forwarded headers
        assert discovery["authorization_endpoint"].startswith(site.url + "/")

        log = tmp_path / "browser.jsonl"
        env = {**ca_env, "BROWSER": browser_command(tmp_path), "ANAREPO_BROWSER_LOG": str(log),
               "ANAREPO_BROWSER_LOGIN": "alice", "ANAREPO_BROWSER_PASSWORD": PASSWORD,
               "ANAREPO_BROWSER_PROFILE": str(tmp_path / "chromium-profile"),
               "ANAREPO_BROWSER_SPKI": pki.spki_sha256}
        assert not any(k.startswith("ANACONDA_CLIENT_LEGACY") for k in os.environ)
        cli = AnacondaCli(tmp_path / "home", site.url + "/api")

        login = cli("login", "--hostname", "laptop", env=env, timeout=240, ok=None)
        steps = browser_log(log, 1)
        assert login.returncode == 0, f"{login.output}\nbrowser: {steps}\n{site.logs()}"
        assert steps and steps[-1]["ok"], steps
        assert steps[-1]["steps"][0] == "login form"  # no session yet: the web login
        assert steps[-1]["steps"][1] == "consent: Allow anaconda-client to sign in as alice?"
        assert steps[-1]["url"] == site.url + "/app/local-login-success"
        token = cli.token()
        assert token and token.startswith("ar-")
        assert "alice" in cli("whoami", env=ca_env).output

        # anaconda upload with the stored token, through nginx
        package = tmp_path / "tlspkg-1.0-py_0.tar.bz2"
        package.write_bytes(conda_tar_bz2("tlspkg", "1.0"))
        cli("upload", str(package), env=ca_env, timeout=180)
        package_json = requests.get(f"{site.url}/api/package/alice/tlspkg", verify=str(pki.ca_pem),
                                    headers={"Authorization": f"token {token}"}, timeout=10).json()
        assert [f["basename"] for f in package_json["files"]] == ["noarch/tlspkg-1.0-py_0.tar.bz2"]

        # anaconda auth --create runs the browser flow again: the browser still has its session
        created = cli("auth", "--create", "-n", "ci-token", "--scopes", "conda:download", env=env, timeout=240,
                      ok=None)
        steps = browser_log(log, 2)
        assert created.returncode == 0, f"{created.output}\nbrowser: {steps}"
        assert steps[-1]["ok"] and steps[-1]["steps"][0].startswith("consent:"), steps
        new_token = created.stdout.strip().splitlines()[-1]
        info = requests.get(f"{site.url}/api/authentication", headers={"Authorization": f"token {new_token}"},
                            verify=str(pki.ca_pem), timeout=10).json()
        assert info["name"] == "ci-token" and info["scopes"] == ["conda:download"]
    finally:
        site.stop()
