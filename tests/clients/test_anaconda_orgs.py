"""The spec's organization flows with the real ``anaconda`` CLI.

Alice owns ``acme`` and uploads a private conda package to it (``-u acme``);
she makes a Read-Only group with ``anaconda groups``, adds Bob and the package;
Bob can then download the private package and install it with conda tooling,
but his upload to the organization is refused and leaves nothing behind.
"""
from __future__ import annotations

import pytest
from tests.clients.anaconda_builders import conda_tar_bz2
from tests.clients.anaconda_cli import AnacondaCli

from anarepo.testing import DEFAULT_PASSWORD, served_app

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("orgs-server"), ["alice", "bob", "carol"], {"acme": "alice"}) as served:
        yield served


def cli_for(server, tmp_path_factory, login):
    cli = AnacondaCli(tmp_path_factory.mktemp(f"{login}-home"), server[1].url + "/api")
    cli("login", "--username", login, "--password", DEFAULT_PASSWORD)
    return cli


@pytest.fixture(scope="module")
def people(server, tmp_path_factory):
    return {login: cli_for(server, tmp_path_factory, login) for login in ("alice", "bob", "carol")}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    path = tmp_path_factory.mktemp("pkgs") / "secret-tool-1.0-py_0.tar.bz2"
    path.write_bytes(conda_tar_bz2("secret-tool", "1.0", summary="Only for acme readers"))
    other = path.with_name("intruder-1.0-py_0.tar.bz2")
    other.write_bytes(conda_tar_bz2("intruder", "1.0", summary="Should never land"))
    invalid = path.with_name("broken-build-1.0-0.tar.bz2")
    invalid.write_bytes(conda_tar_bz2("broken-build", "1.0", build="0", build_number=-1))
    return path, other, invalid


def test_owner_uploads_a_private_package_to_the_org(server, people, package):
    harness, _ = server
    people["alice"]("upload", "-u", "acme", "--private", package[0])
    with harness.root() as root:
        pkg = root.owners["acme"].packages["secret-tool"]
        assert pkg.access == "private" and pkg.package_types == ("conda",)


def test_strangers_cannot_see_it(people, tmp_path):
    out = people["carol"]("show", "acme/secret-tool", ok=False)
    assert "NotFound" in out.output or "404" in out.output
    dl = people["bob"]("download", "acme/secret-tool", "-o", tmp_path)
    assert not list(tmp_path.rglob("*.tar.bz2"))  # the CLI logs the 404 and writes nothing
    assert "not found" in dl.output.lower()


def test_groups_add_member_and_package(people):
    alice = people["alice"]
    alice("groups", "add", "acme/readers", "--perms", "read")
    alice("groups", "add_member", "acme/readers/bob")
    alice("groups", "add_package", "acme/readers/secret-tool")
    members = alice("groups", "members", "acme/readers")
    assert "bob" in members.output
    packages = alice("groups", "packages", "acme/readers")
    assert "acme/secret-tool" in packages.output
    # only the org's administrators manage groups
    refused = people["carol"]("groups", "add_member", "acme/readers/carol", ok=False)
    assert "permission" in refused.output.lower() or "403" in refused.output


def test_read_only_member_downloads_the_private_package(people, package, tmp_path):
    (tmp_path / "noarch").mkdir()
    people["bob"]("download", "acme/secret-tool", "-o", tmp_path, cwd=tmp_path)
    got = tmp_path / "noarch" / package[0].name
    assert got.read_bytes() == package[0].read_bytes()


def test_read_only_member_is_refused_an_upload(server, people, package):
    harness, _ = server
    refused = people["bob"]("upload", "-u", "acme", package[1], ok=False)
    assert "permission" in refused.output.lower() or "403" in refused.output
    with harness.root() as root:
        assert "intruder" not in root.owners["acme"].packages


@pytest.mark.parametrize("perms", ["write", "admin"])
def test_read_write_and_admin_members_upload_new_packages_into_the_org(server, people, package, perms, tmp_path):
    """A member of a read-write or admin group may create a package in the
    organization; the package joins the member's group, so the upload into it
    succeeds (it used to get 403 and leave an empty package listed)."""
    harness, _ = server
    alice, carol = people["alice"], people["carol"]
    alice("groups", "add", f"acme/makers-{perms}", "--perms", perms)
    alice("groups", "add_member", f"acme/makers-{perms}/carol")
    name = f"builder-tool-{perms}"
    path = tmp_path / f"{name}-1.0-py_0.tar.bz2"
    path.write_bytes(conda_tar_bz2(name, "1.0", summary="Made by a member"))
    carol("upload", "-u", "acme", "--private", path)
    assert f"acme/{name}" in alice("groups", "packages", f"acme/makers-{perms}").output
    (tmp_path / "out" / "noarch").mkdir(parents=True)
    carol("download", f"acme/{name}", "-o", tmp_path / "out", cwd=tmp_path / "out")
    assert (tmp_path / "out" / "noarch" / path.name).read_bytes() == path.read_bytes()
    with harness.root() as root:
        pkg = root.owners["acme"].packages[name]
        assert pkg.access == "private" and pkg.file_count() == 1
    # bob, in the read-only group only, still sees nothing of it
    assert "not found" in people["bob"]("show", f"acme/{name}", ok=False).output.lower()
    alice("groups", "remove_member", f"acme/makers-{perms}/carol")


def test_a_refused_upload_leaves_no_empty_package_in_the_org(server, people, package):
    harness, _ = server
    alice, carol = people["alice"], people["carol"]
    alice("groups", "add", "acme/builders", "--perms", "write")
    alice("groups", "add_member", "acme/builders/carol")
    refused = carol("upload", "-u", "acme", package[2], ok=False)
    assert "build_number must be a non-negative integer" in refused.output
    with harness.root() as root:
        assert "broken-build" not in root.owners["acme"].packages
        assert "broken-build" not in root.owners["acme"].groups["builders"].packages


def test_notification_reached_the_new_member(server):
    harness, _ = server
    with harness.root() as root:
        texts = [n.text for n in root.owners["bob"].inbox.newest()]
    assert any("organization acme" in t for t in texts)
