"""An app served under a path (``anarepo.public_url = https://host/repo/``) makes every
URL under that path and routes requests whether the front server kept the prefix or
stripped it (before: the path of ``public_url`` was ignored, links pointed at the host's
root, where another site lives)."""
from __future__ import annotations

import re

import pytest
import webtest

from anarepo.package_types.pypi import builders
from anarepo.testing import make_settings

PUBLIC = "https://repo.example.org/repo"


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **{"anarepo.public_url": PUBLIC + "/"})


@pytest.fixture
def client(app):
    app.make_user("alice")
    app.upload("alice", *builders.wheel("tool", "1.0"))
    return webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "backend:6543"})


@pytest.mark.parametrize("prefix", ["/repo", ""], ids=["prefix kept", "prefix stripped"])
def test_pages_and_links_live_under_the_public_path(app, client, prefix):
    page = client.get(f"{prefix}/pypi/alice/simple/tool/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    (url,) = [f["url"] for f in page.json["files"]]
    absolute = url if url.startswith("http") else None
    assert absolute is None or absolute.startswith(PUBLIC + "/pypi/alice/"), url
    assert client.get(webtest.app.urlparse.urljoin(f"{prefix}/pypi/alice/simple/tool/", url).replace(
        "https://repo.example.org", "")).body[:2] == b"PK"
    moved = client.get(f"{prefix}/pypi/alice/simple", status="*")
    assert moved.status_int in (301, 308) and moved.location.startswith(PUBLIC + "/pypi/alice/simple/")
    web = client.get(f"{prefix}/alice/tool")
    links = [h for h in re.findall(r'(?:href|src|action)="([^"#][^"]*)"', web.text)]
    outside = [h for h in links if not h.startswith((PUBLIC + "/", "/repo/"))]
    assert len(links) > 5 and not outside, outside


def test_a_token_in_the_path_under_the_public_path(app, client):
    token = app.make_token("alice", "read")
    assert client.get(f"/repo/t/{token}/pypi/alice/simple/tool/").status_int == 200
    assert client.get(f"/repo/pypi/t/{token}/alice/simple/").status_int == 200
    staged = client.get("/repo/api/user", headers={"Authorization": f"token {token}"}).json
    assert staged["login"] == "alice"
