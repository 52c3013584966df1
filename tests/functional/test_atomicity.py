"""Transfers and organization deletion are atomic: a failure halfway changes nothing."""
import pytest
import webtest

from anarepo import finish_startup, make_config
from anarepo.db import get_db
from anarepo.services.events import PackageChanged
from anarepo.http.middleware import TokenPrefixMiddleware
from anarepo.services.orgs import add_group_package, create_group
from anarepo.testing import AppHarness, make_settings
from tests.conda_builders import build_package


class Sabotage:
    """A PackageChanged subscriber that fails on the n-th event while armed."""

    def __init__(self):
        self.armed, self.fail_on, self.seen = False, 1, 0

    def __call__(self, event):
        if not self.armed:
            return
        self.seen += 1
        if self.seen >= self.fail_on:
            raise RuntimeError("disk on fire")


@pytest.fixture
def sabotaged(tmp_path):
    sabotage = Sabotage()
    config = make_config(make_settings(tmp_path))
    config.add_subscriber(sabotage, PackageChanged)
    app = config.make_wsgi_app()
    finish_startup(app.registry)
    harness = AppHarness(TokenPrefixMiddleware(app))
    harness.make_user("alice")
    harness.make_org("acme", "alice")
    for name in ("one", "two", "three"):
        fn, data = build_package(name, "1.0")
        harness.upload("acme", fn, data, labels=["main", "dev"])
    with harness.root() as root:
        org = root.owners["acme"]
        group = create_group(org, "readers", "read")
        add_group_package(harness.registry, org, group, "two")
    yield harness, sabotage, webtest.TestApp(harness.wsgi_app)
    get_db(app.registry).close()


def snapshot(harness, testapp, token):
    with harness.root() as root:
        acme, alice = root.owners["acme"], root.owners["alice"]
        state = {
            "acme": sorted(acme.packages.keys()),
            "alice": sorted(alice.packages.keys()),
            "groups": {g.name: sorted(g.packages) for g in acme.groups.values()},
            "orgs": sorted(alice.organizations),
            "tokens": len(root.tokens),
        }
    state["repodata"] = sorted(testapp.get("/conda/acme/noarch/repodata.json").json["packages"])
    state["dev"] = sorted(testapp.get("/conda/acme/label/dev/noarch/repodata.json").json["packages"])
    state["mine"] = testapp.get(f"/conda/t/{token}/alice/noarch/repodata.json").json["packages"]
    return state


def test_failed_transfer_leaves_everything_as_it_was(sabotaged):
    harness, sabotage, testapp = sabotaged
    token = harness.make_token("alice", "t")
    before = snapshot(harness, testapp, token)
    sabotage.armed = True
    failed = testapp.post_json("/api/package/acme/two/transfer", {"to_owner": "alice"},
                               headers={"Authorization": f"token {token}"}, status=500)
    assert failed.json == {"error": "internal server error; the operators have the details in the log"}
    sabotage.armed = False
    assert snapshot(harness, testapp, token) == before
    # and when nothing fails, the same transfer goes through
    testapp.post_json("/api/package/acme/two/transfer", {"to_owner": "alice"}, headers={"Authorization": f"token {token}"})
    after = snapshot(harness, testapp, token)
    assert after["alice"] == ["two"] and "two" not in after["acme"] and after["groups"] == {"readers": []}
    assert any(k.startswith("two-") for k in after["mine"])


def test_failed_org_deletion_leaves_everything_as_it_was(sabotaged):
    harness, sabotage, testapp = sabotaged
    token = harness.make_token("alice", "t")
    harness.make_token("alice", "org-token", org="acme")
    before = snapshot(harness, testapp, token)
    sabotage.armed, sabotage.fail_on = True, 2  # fail after the first package is gone
    testapp.delete_json("/api/organizations/acme", {"confirm": "acme"}, headers={"Authorization": f"token {token}"},
                        status=500)
    sabotage.armed = False
    assert snapshot(harness, testapp, token) == before
    testapp.delete_json("/api/organizations/acme", {"confirm": "acme"}, headers={"Authorization": f"token {token}"},
                        status=201)
    testapp.get("/conda/acme/noarch/repodata.json", status=404)
