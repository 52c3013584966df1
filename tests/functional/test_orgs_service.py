"""The organization service: groups, members, collaborators, access, transfer, deletion."""
import pytest

from anarepo.services import orgs
from anarepo.errors import Conflict, NotFound, PublishError
from anarepo.names import InvalidName
from anarepo.services import packages
from anarepo.security.policy import principals_for


@pytest.fixture
def acme(app):
    app.make_user("alice")
    app.make_user("bob")
    app.make_org("acme", "alice")
    app.publish_file("acme", "tool", "1.0", "tool.txt", b"t", access="private")
    app.publish_file("acme", "other", "1.0", "other.txt", b"o", access="private")
    return app


def test_groups_give_their_members_principals_and_package_rights(acme):
    with acme.root() as root:
        org = root.owners["acme"]
        group = orgs.create_group(org, "Readers", "read")
        orgs.add_group_member(root, org, group, "bob")
        orgs.add_group_package(acme.registry, org, group, "tool")
    with acme.root() as root:
        bob = root.owners["bob"]
        assert "acme" in bob.organizations
        assert "group:acme/readers" in principals_for(root, bob)
        org = root.owners["acme"]
        acl = org.packages["tool"].__acl__()
        assert ("Allow", "group:acme/readers", ("view",)) in acl
        assert not any(ace[1] == "group:acme/readers" for ace in org.packages["other"].__acl__())
        assert bob.inbox.newest()[0].text.startswith("You were added to the organization acme")


def test_group_errors_change_nothing(acme):
    with acme.root() as root:
        org = root.owners["acme"]
        group = orgs.create_group(org, "devs", "write")
        with pytest.raises(Conflict):
            orgs.create_group(org, "devs", "read")
        with pytest.raises(InvalidName):
            orgs.create_group(org, "bad name", "read")
        with pytest.raises(PublishError):
            orgs.create_group(org, "x", "superuser")
        with pytest.raises(NotFound):
            orgs.add_group_member(root, org, group, "ghost")
        with pytest.raises(NotFound):
            orgs.add_group_member(root, org, group, "acme")  # an org is not a member
        with pytest.raises(NotFound):
            orgs.add_group_package(acme.registry, org, group, "nope")
        with pytest.raises(PublishError):
            orgs.create_group(root.owners["alice"], "x", "read")  # users have no groups
    with acme.root() as root:
        assert list(root.owners["acme"].groups.keys()) == ["devs"]


def test_removing_the_last_group_leaves_the_org(acme):
    with acme.root() as root:
        org = root.owners["acme"]
        group = orgs.create_group(org, "devs", "write")
        orgs.add_group_member(root, org, group, "bob")
        orgs.remove_group(acme.registry, root, org, "devs")
        assert "acme" not in root.owners["bob"].organizations
        with pytest.raises(PublishError, match="last owner"):
            orgs.remove_org_owner(root, org, "alice")
        orgs.add_org_owner(root, org, "bob")
        orgs.remove_org_owner(root, org, "alice")
        assert "acme" not in root.owners["alice"].organizations and "acme" in root.owners["bob"].organizations


def test_collaborators_and_access(acme):
    with acme.root() as root:
        package = root.owners["acme"].packages["tool"]
        packages.add_collaborator(acme.registry, root, package, "bob")
        with pytest.raises(Conflict):
            packages.add_collaborator(acme.registry, root, package, "bob")
        assert ("Allow", "user:bob", ("view", "upload", "edit")) in package.__acl__()
        packages.remove_collaborator(acme.registry, root, package, "bob")
        with pytest.raises(NotFound):
            packages.remove_collaborator(acme.registry, root, package, "bob")
        packages.set_access(acme.registry, package, "public")
        assert package.access == "public"
        with pytest.raises(PublishError):
            packages.set_access(acme.registry, package, "secret")


def test_private_packages_can_be_disabled_by_the_site(tmp_path):
    from anarepo import main
    from anarepo.testing import AppHarness, make_settings

    harness = AppHarness(main({}, **make_settings(tmp_path, **{"anarepo.allow_private": "false"})))
    try:
        harness.make_user("alice")
        harness.publish_file("alice", "p", "1", "p.txt", b"p")
        with harness.root() as root:
            with pytest.raises(PublishError, match="does not allow private"):
                packages.set_access(harness.registry, root.owners["alice"].packages["p"], "private")
    finally:
        harness.close()


def test_transfer_moves_files_labels_and_drops_old_group_links(acme):
    acme.publish_file("alice", "mine", "2.0", "mine.txt", b"m", labels=["dev"])
    with acme.root() as root:
        org = root.owners["acme"]
        package = root.owners["alice"].packages["mine"]
        packages.transfer_package(acme.registry, root, package, org)
    with acme.root() as root:
        assert "mine" not in root.owners["alice"].packages
        moved = root.owners["acme"].packages["mine"]
        assert moved.owner.login == "acme" and moved.full_name == "acme/mine"
        assert "dev" in root.owners["acme"].labels
        (dist,) = moved.distributions()
        with dist.blob.open("r") as f:
            assert f.read() == b"m"
        group = orgs.create_group(root.owners["acme"], "g", "read")
        orgs.add_group_package(acme.registry, root.owners["acme"], group, "mine")
        packages.transfer_package(acme.registry, root, moved, root.owners["alice"])
        assert "mine" not in group.packages


def test_transfer_refusals_leave_everything_in_place(acme):
    acme.publish_file("alice", "tool", "9", "t9.txt", b"x")
    with acme.root() as root:
        with pytest.raises(Conflict):
            packages.transfer_package(acme.registry, root, root.owners["alice"].packages["tool"], root.owners["acme"])
        with pytest.raises(NotFound):
            packages.transfer_package(acme.registry, root, root.owners["alice"].packages["tool"], None)
    with acme.root() as root:
        assert root.owners["alice"].packages["tool"].owner.login == "alice"
        assert root.owners["acme"].packages["tool"].owner.login == "acme"


def test_delete_organization_removes_everything(acme, testapp):
    org_token = acme.make_token("alice", "org-token", org="acme")
    with acme.root() as root:
        org = root.owners["acme"]
        group = orgs.create_group(org, "devs", "write")
        orgs.add_group_member(root, org, group, "bob")
        orgs.delete_organization(acme.registry, root, org)
    with acme.root() as root:
        assert "acme" not in root.owners
        assert "acme" not in root.owners["alice"].organizations
        assert "acme" not in root.owners["bob"].organizations
        assert len(root.tokens) == 0
    testapp.get("/api/user", headers={"Authorization": f"token {org_token}"}, status=401)
