"""The rows of docs/clients.md not covered elsewhere, with the real ``anaconda`` CLI
(anaconda-client 1.16.0): the ways to log in that work today and the default one
that does not yet (OpenID Connect is issue 19), ``config``, the deprecated
``channel`` form of ``label``, and the types the client no longer uploads."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.clients.anaconda_cli import AnacondaCli

from anarepo.testing import DEFAULT_PASSWORD, served_app

pytestmark = pytest.mark.clients

LEGACY = {"ANACONDA_CLIENT_LEGACY_INTERACTIVE_LOGIN": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("commands-server"), ["alice"]) as served:
        yield served


@pytest.fixture
def cli(server, tmp_path):
    return AnacondaCli(tmp_path / "home", server[1].url + "/api")


def login(cli, host):
    """Each test logs in from its own --hostname: the token name includes it, and a
    second login under the same name asks before replacing the first."""
    cli("login", "--username", "alice", "--password", DEFAULT_PASSWORD, "--hostname", host)


@pytest.mark.slow
def test_plain_login_is_the_browser_flow_and_fails_without_storing_a_token(cli):
    """Plain ``anaconda login`` asks https://<host>/.well-known/openid-configuration;
    against a plain-http server the TLS handshake waits for waitress's two-minute
    channel timeout, then the login fails, storing nothing (README: what works)."""
    result = cli("login", input="", ok=False, timeout=300)
    assert "SSL" in result.output or "openid" in result.output.lower(), result.output
    assert cli.token() is None


def test_login_with_a_user_name_asks_for_the_password(cli):
    result = cli("login", "--username", "alice", "--hostname", "box-1", input=DEFAULT_PASSWORD + "\n")
    assert "login successful" in result.output and cli.token()
    assert "Username: alice" in cli("whoami").output


def test_legacy_interactive_login_asks_for_both(cli):
    result = cli("login", "--hostname", "box-2", input=f"alice\n{DEFAULT_PASSWORD}\n", env=LEGACY)
    assert "login successful" in result.output and cli.token()


def test_config_is_local(cli, server):
    assert cli("config", "--get", "url").output.strip().endswith(server[1].url + "/api")
    cli("config", "--set", "sites.here.url", server[1].url + "/api")
    assert "Anonymous User" in cli("-s", "here", "whoami").output


def test_deprecated_channel_command_is_label(cli):
    login(cli, "box-3")
    result = cli("channel", "--list")
    assert "+ main" in result.output and "deprecated" in result.output.lower()


def test_notebooks_environments_and_projects_go_through_anarepo_upload(cli, server, tmp_path):
    login(cli, "box-4")
    notebook = tmp_path / "analysis.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    refused = cli("upload", notebook, ok=False)
    assert "anaconda-client" in refused.output.lower() or "removed" in refused.output.lower(), refused.output
    # anarepo upload takes it with the same login (docs/clients.md, README)
    anarepo = Path(sys.executable).with_name("anarepo")
    done = subprocess.run([str(anarepo), "upload", str(notebook)], env=cli.env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    with server[0].root() as root:
        assert root.owners["alice"].packages["analysis"].package_types == ("ipynb",)
