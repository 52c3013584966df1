"""Credentials against a second anarepo holding a private package; never shown, never logged."""
from __future__ import annotations

import logging

import pytest

from anarepo.testing import served_app
from tests.conda_builders import build_package, publish_conda

from .conftest import add, sync


@pytest.fixture
def private_upstream(tmp_path):
    with served_app(tmp_path / "upstream", users=["up"]) as (harness, live):
        fn, data = build_package("secretpkg", "1.0", "0")
        publish_conda(harness, "up", f"noarch/{fn}", data, access="private")
        fn, data = build_package("openpkg", "1.0", "0")
        publish_conda(harness, "up", f"noarch/{fn}", data)
        token = harness.make_token("up", "mirror", scopes=["conda:download"])
        yield live, token


@pytest.mark.parametrize("kind", ["token", "bearer"])
def test_a_private_upstream_package_is_mirrored_with_the_credential(mirror_app, testapp, private_upstream, kind,
                                                                    caplog):
    live, token = private_upstream
    add(mirror_app, url=f"{live.url}/conda/up/", auth=kind, secret=token)
    with caplog.at_level(logging.DEBUG):
        run = sync(mirror_app)
    assert (run["added"], run["failed"]) == (2, 0), run
    doc = testapp.get("/conda/alice/noarch/repodata.json").json
    assert sorted(doc["packages"]) == ["openpkg-1.0-0.tar.bz2", "secretpkg-1.0-0.tar.bz2"]
    assert token not in caplog.text
    assert token not in testapp.get("/api/sources/alice", headers={
        "Authorization": f"token {mirror_app.make_token('alice', 'x')}"}).text


def test_without_the_credential_only_public_packages_come(mirror_app, testapp, private_upstream):
    live, _ = private_upstream
    add(mirror_app, url=f"{live.url}/conda/up/")
    assert sync(mirror_app)["added"] == 1


def test_errors_never_show_the_path_token(mirror_app, private_upstream, caplog):
    live, token = private_upstream
    add(mirror_app, url=f"{live.url}/conda/nobody/", auth="token", secret=token)
    with caplog.at_level(logging.DEBUG):
        run = sync(mirror_app)
    assert run["failed"] == 1 and "/t/<token>/" in run["errors"][0]
    assert token not in str(run) and token not in caplog.text
