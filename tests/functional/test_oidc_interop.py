"""One anarepo signs in through another: site A's upstream OpenID Connect client
(anarepo/security/upstream_oidc.py) against site B's provider (anarepo/security/oidc_provider.py),
both real waitress servers, a ``requests`` session as the person's browser.  B's organization
groups reach A as the ``groups`` claim and become A's organization groups through ``group_map``.

The two sites run on different loopback names (``127.0.0.1`` and ``localhost``): a browser
keeps cookies per host, not per port, and both sites name their cookie ``anarepo_session``."""
from __future__ import annotations

import hashlib
import html
import re

import requests

from anarepo import main
from anarepo.resources.owners import Group
from anarepo.testing import DEFAULT_PASSWORD, AppHarness, LiveServer, make_settings

SECRET = "site-a-client-secret-0123456789"


def hidden_fields(page: str) -> dict:
    return {name: html.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def form_after(page: str, form_id: str) -> str:
    return page[page.index(f'id="{form_id}"'):]


def test_an_anarepo_signs_in_through_another_anarepo_with_its_groups(tmp_path):
    provider = AppHarness(main({}, **make_settings(tmp_path / "b", **{
        "anarepo.oidc.clients": "site-a",
        "anarepo.oidc.client.site-a.name": "Site A",
        # a loopback redirect URI: any port (RFC 8252), so A's port need not be known here
        "anarepo.oidc.client.site-a.redirect_uris": "http://127.0.0.1/account/login/oidc/callback",
        "anarepo.oidc.client.site-a.secret_sha256": hashlib.sha256(SECRET.encode()).hexdigest(),
    })))
    provider.make_user("olga", email="olga@b.example.org")
    provider.make_org("team", "olga")
    with provider.root() as root:
        root.owners["team"].groups.add("devs", Group("devs", "write"))
        root.owners["team"].groups["devs"].members.add("olga")
    b = LiveServer(provider.wsgi_app).start()
    issuer = f"http://localhost:{b.port}"
    consumer = AppHarness(main({}, **make_settings(tmp_path / "a", **{
        "anarepo.login.oidc.issuer": issuer,
        "anarepo.login.oidc.client_id": "site-a",
        "anarepo.login.oidc.client_secret": SECRET,
        "anarepo.login.oidc.title": "Site B",
        "anarepo.login.oidc.scopes": "openid profile email groups",
        "anarepo.login.oidc.group_map": "team/devs -> aorg/developers",
    })))
    consumer.make_user("boss")
    consumer.make_org("aorg", "boss")
    with consumer.root() as root:
        root.owners["aorg"].groups.add("developers", Group("developers", "write"))
    a = LiveServer(consumer.wsgi_app).start()
    try:
        browser = requests.Session()
        # A sends the browser to B's authorization endpoint
        start = browser.get(f"{a.url}/account/login/oidc", params={"came_from": "/dashboard"},
                            allow_redirects=False, timeout=10)
        assert start.status_code == 302 and start.headers["Location"].startswith(
            f"{issuer}/account/oauth/authorize?")
        # B: no session yet, so its login form, then back to the consent page
        login = browser.get(start.headers["Location"], timeout=10)
        assert "/account/login" in login.url
        fields = hidden_fields(login.text)
        consent = browser.post(f"{issuer}/account/login", timeout=10, data={
            **fields, "login": "olga", "password": DEFAULT_PASSWORD})
        assert "Allow Site A to sign in as olga?" in consent.text
        answer = browser.post(f"{issuer}/account/oauth/authorize", allow_redirects=False, timeout=10,
                              data={**hidden_fields(form_after(consent.text, "consent-form")),
                                    "decision": "allow"})
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith(f"{a.url}/account/login/oidc/callback?code=")
        # back at A: it exchanges the code with B (server to server), checks the ID token, provisions olga
        done = browser.get(answer.headers["Location"], allow_redirects=False, timeout=30)
        assert done.status_code == 302 and done.headers["Location"] == f"{a.url}/dashboard", done.text[:2000]
        assert "olga" in browser.get(f"{a.url}/dashboard", timeout=10).text
        with consumer.root() as root:
            assert root.external_accounts.accounts["olga"].subject == f"{issuer}|olga"
            assert "olga" in root.owners["aorg"].groups["developers"].members
            assert root.owners["olga"].password_hash == ""
        with provider.root() as root:
            assert len(root.tokens) == 0  # an identity sign-in mints no API token at B
    finally:
        a.stop()
        b.stop()
        consumer.close()
        provider.close()
