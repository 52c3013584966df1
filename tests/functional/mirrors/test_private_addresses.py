"""A user's source may not make the server read its own network (server-side request forgery).

Any user defines sources for their own account, so unless the site sets
``anarepo.sources.private_upstreams`` every hop must resolve to public addresses.
"""
from __future__ import annotations

import json

import pytest

from anarepo.sources.fetch import Fetcher, UpstreamError, public_only


@pytest.fixture
def public_only_site(mirror_app):
    mirror_app.registry.settings["anarepo.sources.private_upstreams"] = "false"
    return mirror_app


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_users_source_on_a_loopback_address_is_never_fetched(public_only_site, testapp, conda_upstream, host):
    token = public_only_site.make_token("bob", "all")
    url = conda_upstream.url.replace("127.0.0.1", host)
    body = {"name": "inside", "kind": "conda", "url": url, "mode": "mirror"}
    testapp.post("/api/sources/bob", json.dumps(body), headers={"Authorization": f"token {token}"}, status=201)
    run = testapp.post("/api/sources/bob/inside/sync", headers={"Authorization": f"token {token}"}).json
    assert run["added"] == 0 and run["failed"] == 1 and "not a public address" in run["errors"][0], run
    assert conda_upstream.misbehave.requests == []  # not one byte asked of it
    assert testapp.get("/conda/bob/noarch/repodata.json").json["packages"] == {}


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:8080/",
                                 "http://0.0.0.0/", "http://100.64.0.1/", "file:///etc/passwd",
                                 "http://no-such-host.invalid/"])
def test_internal_and_odd_addresses_are_refused(url):
    with pytest.raises(UpstreamError):
        public_only(url)


class _Source:
    url, allow_hosts = "https://upstream.example/channel/", ()

    def credential(self):
        return "bearer", "", "s3cret"


def test_the_credential_is_not_sent_over_a_downgrade_to_http():
    fetcher = Fetcher(_Source())
    assert fetcher._headers("https://upstream.example/channel/x", None)[0]["Authorization"] == "Bearer s3cret"
    assert "Authorization" not in fetcher._headers("http://upstream.example/channel/x", None)[0]


def test_a_name_that_resolves_elsewhere_at_connect_time_is_refused(public_only_site, conda_upstream, monkeypatch):
    """DNS rebinding: the name check passed (a public answer), the connection lands on
    loopback; the connected peer is checked too, and nothing is asked of it."""
    from anarepo.sources import fetch

    monkeypatch.setattr(fetch, "public_only", lambda url: None)  # the first answer looked public
    fetcher = fetch.fetcher_for(_Source.__new__(type("S", (_Source,), {"url": conda_upstream.url})),
                                public_only_site.registry.settings)
    with pytest.raises(UpstreamError):
        fetcher.document(conda_upstream.url + "noarch/repodata.json")
    assert conda_upstream.misbehave.requests == []


def test_an_environment_proxy_is_not_used_for_public_upstreams(public_only_site, conda_upstream, monkeypatch):
    """The peer checked must be the upstream: HTTP_PROXY would make it the proxy's."""
    from anarepo.sources import fetch

    monkeypatch.setenv("HTTP_PROXY", "http://203.0.113.1:3128")  # TEST-NET: would time out if asked
    monkeypatch.setattr(fetch, "public_only", lambda url: None)
    fetcher = fetch.fetcher_for(_Source.__new__(type("S", (_Source,), {"url": conda_upstream.url})),
                                public_only_site.registry.settings)
    with pytest.raises(UpstreamError, match="ConnectionError"):  # refused at once: loopback peer, no proxy
        fetcher.document(conda_upstream.url + "noarch/repodata.json")
