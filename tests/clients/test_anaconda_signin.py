"""The unmodified ``anaconda login --username --password`` (anaconda-client 1.16.0)
signs in a directory user (a real slapd) and a local user with two-step
verification (the code typed right after the password), through the same check
as the web form."""
from __future__ import annotations

import time

import pyotp
import pytest
from tests.clients.anaconda_cli import AnacondaCli

from anarepo.testing import DEFAULT_PASSWORD, served_app

from ..ldap_server import GROUPS, PEOPLE, LdapServer, ldap_settings

pytestmark = pytest.mark.clients

SECRET = pyotp.random_base32()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    slapd = LdapServer(tmp_path_factory.mktemp("slapd")).start().seed()
    try:
        slapd.add_user("lena", "lena-ldap-pw")
        slapd.add_group("devs", [f"uid=lena,{PEOPLE}"])
        settings = ldap_settings(slapd, **{"anarepo.ldap.group_map": f"cn=devs,{GROUPS} -> acme/devs"})
        with served_app(tmp_path_factory.mktemp("signin-site"), users=["alice", "otto"], orgs={"acme": "alice"},
                        **settings) as (harness, live):
            with harness.root() as root:
                from anarepo.services.orgs import create_group
                from anarepo.security.totp import SecondFactor

                create_group(root.owners["acme"], "devs", "write")
                factor = root.owners["otto"].second_factor = SecondFactor(SECRET)
                factor.confirmed = True
            yield harness, live
    finally:
        slapd.stop()


def test_anaconda_login_as_a_directory_user_provisions_and_maps_groups(site, tmp_path):
    harness, live = site
    cli = AnacondaCli(tmp_path, live.url + "/api")
    assert "login successful" in cli("login", "--username", "lena", "--password", "lena-ldap-pw").output
    assert "lena" in cli("whoami").output
    with harness.root() as root:
        assert "lena" in root.owners["acme"].groups["devs"].members
    refused = cli("login", "--username", "lena", "--password", "wrong", input="", ok=False)
    assert "invalid" in refused.output.lower() and cli.token() is not None  # the earlier login stays


def test_anaconda_login_with_two_step_verification_takes_the_code_after_the_password(site, tmp_path):
    harness, live = site
    cli = AnacondaCli(tmp_path, live.url + "/api")
    refused = cli("login", "--username", "otto", "--password", DEFAULT_PASSWORD, input="", ok=False)
    assert "two-step verification" in refused.output
    code = pyotp.TOTP(SECRET).at(time.time())
    assert "login successful" in cli("login", "--username", "otto", "--password", DEFAULT_PASSWORD + code).output
    assert "otto" in cli("whoami").output
