"""The unmodified ``anaconda`` CLI (anaconda-client 1.16.0) manages an anarepo server end to end.

One live waitress server on a temporary FileStorage serves the whole module;
tests run in order and build on each other (login, then uploads, then the
commands that read and change what was uploaded).
"""
from __future__ import annotations

import hashlib
import json
import urllib.request

import pytest
from tests.clients.anaconda_builders import conda_tar_bz2, conda_v2, sdist, wheel, wheel_name
from tests.clients.anaconda_cli import AnacondaCli

from anarepo.testing import DEFAULT_PASSWORD, AppHarness, LiveServer, make_settings

pytestmark = pytest.mark.clients

PW = DEFAULT_PASSWORD


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from anarepo import main

    harness = AppHarness(main({}, **make_settings(tmp_path_factory.mktemp("anaconda-server"))))
    live = LiveServer(harness.wsgi_app).start()
    harness.make_user("alice")
    harness.make_user("bob")
    harness.make_org("acme", "alice")
    yield harness, live
    live.stop()
    harness.close()


@pytest.fixture(scope="module")
def app(server):
    return server[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Real package files, built offline."""
    d = tmp_path_factory.mktemp("anaconda-files")
    out = {
        "bz2": ("mypkg-1.0-py_0.tar.bz2", conda_tar_bz2("mypkg", "1.0", depends=["python >=3.8"], summary="My pkg")),
        "bz2-2": ("mypkg-2.0-py_0.tar.bz2", conda_tar_bz2("mypkg", "2.0", summary="My pkg")),
        "conda": ("mypkg-1.0-h1_0.conda", conda_v2("mypkg", "1.0", build="h1_0", subdir="linux-64")),
        "wheel": (wheel_name("pyfoo", "0.1"), wheel("pyfoo", "0.1")),
        "sdist": ("pyfoo-0.1.tar.gz", sdist("pyfoo", "0.1")),
        "data": ("data.csv", b"a,b\n1,2\n"),
        "corrupt": ("broken-1.0-0.tar.bz2", b"BZh91AY&SY this is not a conda package"),
        "invalid": ("badmeta-1.0-0.tar.bz2", conda_tar_bz2("badmeta", "1.0", build="0", build_number=-1)),
        "mismatch": (wheel_name("namea", "1.0"), wheel("namea", "1.0", dist_name="nameb")),
        "dotdot": ("evil-1.0-0.tar.bz2", conda_tar_bz2("evil", "1.0", build="0", subdir="..")),
    }
    paths = {}
    for key, (name, data) in out.items():
        sub = d / key
        sub.mkdir()
        (sub / name).write_bytes(data)
        paths[key] = sub / name
    return paths


@pytest.fixture(scope="module")
def alice(server, tmp_path_factory):
    cli = AnacondaCli(tmp_path_factory.mktemp("alice-home"), server[1].url + "/api")
    cli("login", "--username", "alice", "--password", PW)
    return cli


@pytest.fixture(scope="module")
def bob(server, tmp_path_factory):
    cli = AnacondaCli(tmp_path_factory.mktemp("bob-home"), server[1].url + "/api")
    cli("login", "--username", "bob", "--password", PW)
    return cli


def api(server, path, token=None):
    request = urllib.request.Request(server[1].url + "/api" + path)
    if token:
        request.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


# -- login, whoami, logout, auth ----------------------------------------------------
def test_login_whoami_logout(server, tmp_path):
    cli = AnacondaCli(tmp_path / "home", server[1].url + "/api")
    assert "Anonymous User" in cli("whoami").output
    bad = cli("login", "--username", "bob", "--password", "wrong-password", input="", ok=False)
    assert "Invalid Username password combination" in bad.output
    assert "login successful" in cli("login", "--username", "bob", "--password", PW).output
    assert "Username: bob" in cli("whoami").output
    # logging in again from the same host: the client asks before replacing its token
    first = cli.token()
    kept = cli("login", "--username", "bob", "--password", PW, input="n\n", ok=False)
    assert "already logged in from host" in kept.output
    assert cli.token() == first and api(server, "/user", first)["login"] == "bob"
    replaced = cli("login", "--username", "bob", "--password", PW, input="y\n")
    assert "already logged in from host" in replaced.output and "login successful" in replaced.output
    token = cli.token()
    assert token != first and "Username: bob" in cli("whoami").output
    with pytest.raises(urllib.error.HTTPError) as err:
        api(server, "/user", first)
    assert err.value.code == 401
    assert "logout successful" in cli("logout").output
    assert cli.token() is None
    with pytest.raises(urllib.error.HTTPError) as err:
        api(server, "/user", token)
    assert err.value.code == 401
    assert "Anonymous User" in cli("whoami").output


def test_auth_create_list_info_remove(alice, server):
    legacy = {"ANACONDA_CLIENT_LEGACY_INTERACTIVE_LOGIN": "1"}
    created = alice("auth", "--create", "--name", "ci-token", "--scopes", "api:read conda:download",
                    "--max-age", "3600", input=PW + "\n", env=legacy)
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("ar-") and api(server, "/user", token)["login"] == "alice"
    # a second token under the same name is refused and the first one keeps working
    again = alice("auth", "--create", "--name", "ci-token", "--scopes", "api:read", input=PW + "\n", env=legacy,
                  ok=False)
    assert "a token named 'ci-token' exists already" in again.output
    assert api(server, "/user", token)["login"] == "alice"
    org = alice("auth", "--create", "-n", "org-token", "-o", "acme", "-s", "all", "--weak",
                input=PW + "\n", env=legacy)
    assert org.stdout.strip().splitlines()[-1].startswith("ar-")
    listing = alice("auth", "--list").output
    assert "ci-token" in listing and "api:read" in listing and "org-token" in listing
    info = alice("auth", "--info").output
    assert "Name: binstar_client:" in info and "Id: " in info
    scopes = alice("auth", "--list-scopes").output
    assert "conda:download" in scopes and "api:write" in scopes
    alice("auth", "--remove", "ci-token")
    alice("auth", "--remove", "org-token", "-o", "acme")
    listing = alice("auth", "--list").output
    assert "ci-token" not in listing and "org-token" not in listing
    with pytest.raises(urllib.error.HTTPError):
        api(server, "/user", token)


# -- uploads --------------------------------------------------------------------------
def test_upload_conda_tar_bz2_and_conda(alice, files, server):
    out = alice("upload", files["bz2"]).output
    assert "noarch/mypkg-1.0-py_0.tar.bz2" in out
    alice("upload", files["conda"])
    package = api(server, "/package/alice/mypkg")
    assert package["package_types"] == ["conda"] and package["summary"] == "My pkg"
    assert sorted(f["basename"] for f in package["files"]) == [
        "linux-64/mypkg-1.0-h1_0.conda", "noarch/mypkg-1.0-py_0.tar.bz2"]
    repodata = json.loads(urllib.request.urlopen(server[1].url + "/conda/alice/noarch/repodata.json").read())
    assert "mypkg-1.0-py_0.tar.bz2" in repodata["packages"]


def test_upload_wheel_and_sdist(alice, files, server):
    alice("upload", files["wheel"])
    alice("upload", files["sdist"])
    package = api(server, "/package/alice/pyfoo")
    assert package["package_types"] == ["pypi"]
    assert sorted(f["basename"] for f in package["files"]) == ["pyfoo-0.1-py3-none-any.whl", "pyfoo-0.1.tar.gz"]


def test_upload_plain_file_to_org_with_label(alice, files, server):
    alice("upload", "-t", "file", "-p", "dataset", "-v", "2024.1", "-s", "Numbers", files["data"])
    alice("upload", "-u", "acme", "-l", "dev", "-t", "file", "-p", "orgdata", "-v", "1", "-s", "Org data",
          files["data"])
    dist = api(server, "/dist/acme/orgdata/1/data.csv")
    assert dist["labels"] == ["dev"] and dist["size"] == len(files["data"].read_bytes())
    assert api(server, "/dist/alice/dataset/2024.1/data.csv")["labels"] == ["main"]


def test_duplicate_force_and_skip_existing(alice, files, server):
    before = api(server, "/dist/alice/mypkg/1.0/noarch/mypkg-1.0-py_0.tar.bz2")
    duplicate = alice("upload", files["bz2"], ok=False)
    assert "already exists" in duplicate.output
    skipped = alice("upload", "--skip-existing", files["bz2"]).output
    assert "Skipping" in skipped
    alice("upload", "--force", files["bz2"])
    after = api(server, "/dist/alice/mypkg/1.0/noarch/mypkg-1.0-py_0.tar.bz2")
    assert after["upload_time"] != before["upload_time"] and after["sha256"] == before["sha256"]


BAD_UPLOADS = {
    "corrupt": "not a bzip2 file",  # refused by the client itself
    "invalid": "build_number must be a non-negative integer",  # refused by the server's inspection
    "mismatch": "the file name says project 'namea' but the metadata says 'nameb'",
    "dotdot": "invalid upload path",
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_uploads_are_refused_and_leave_no_trace(alice, files, server, case):
    result = alice("upload", files[case], ok=False)
    assert BAD_UPLOADS[case] in result.output
    names = [p["name"] for p in api(server, "/packages/alice")]
    assert not {"broken", "badmeta", "namea", "nameb", "evil"} & set(names)
    from anarepo.services import staging

    with server[0].root() as root:
        area = staging.staging_area(root)
        # committed stages stay, marked used, until they expire; a refused one leaves no uploaded file
        assert area is None or all(s.used or not s.uploaded for s in area.stages.values())


def test_hash_mismatch_with_the_client_library(alice, server, tmp_path):
    """The real client's upload method with a sha256 that is not the file's."""
    from binstar_client import Binstar, errors

    path = tmp_path / "x.txt"
    path.write_bytes(b"content")
    client = Binstar(alice.token(), domain=server[1].url + "/api")
    with pytest.raises(errors.BinstarError) as err, open(path, "rb") as fd:
        client.upload("alice", "dataset", "2024.1", "x.txt", fd, "file", sha256="0" * 64)
    assert "Content-MD5 or checksum value is not valid" in str(err.value)
    with pytest.raises(errors.NotFound):
        client.distribution("alice", "dataset", "2024.1", "x.txt")


# -- reading: download, show, search -------------------------------------------------------
def test_download(alice, files, tmp_path):
    (tmp_path / "noarch").mkdir()
    (tmp_path / "linux-64").mkdir()
    alice("download", "alice/mypkg", "-o", tmp_path, cwd=tmp_path)
    got = (tmp_path / "noarch" / "mypkg-1.0-py_0.tar.bz2").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(files["bz2"].read_bytes()).digest()
    alice("download", "alice/dataset", "-o", tmp_path, cwd=tmp_path)
    assert (tmp_path / "data.csv").read_bytes() == files["data"].read_bytes()


def test_download_with_download_scoped_tokens(app, alice, server, tmp_path):
    """The private package page suggests ``anaconda -t <TOKEN> download``: a
    ``conda:download`` token fetches the conda files (it answered 404), a
    ``pypi:download`` token the PyPI files, and neither anything else."""
    conda_file = tmp_path / "privtool-1.0-py_0.tar.bz2"
    conda_file.write_bytes(conda_tar_bz2("privtool", "1.0", summary="Private tool"))
    wheel_file = tmp_path / wheel_name("privtool", "1.0")
    wheel_file.write_bytes(wheel("privtool", "1.0"))
    alice("upload", "--private", conda_file)
    alice("upload", wheel_file)
    alice("upload", "--private", "-t", "file", "-p", "privdata", "-v", "1", "-s", "Private data", conda_file)
    stranger = AnacondaCli(tmp_path / "home", server[1].url + "/api")
    for scope, wanted, unwanted in (("conda:download", conda_file, wheel_file),
                                    ("pypi:download", wheel_file, conda_file)):
        token = app.make_token("alice", f"dl-{scope}", scopes=[scope])
        out = tmp_path / scope.replace(":", "-")
        (out / "noarch").mkdir(parents=True)
        stranger("-t", token, "download", "alice/privtool", "-o", out, cwd=out)
        got = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert got == {wanted.name: wanted.read_bytes()}, sorted(got)
        refused = stranger("-t", token, "download", "alice/privdata", "-o", out, cwd=out)
        assert "not found" in refused.output.lower() and not list(out.rglob("privdata*"))
    # without a token the private package stays hidden
    nothing = tmp_path / "anonymous"
    nothing.mkdir()
    assert "not found" in stranger("download", "alice/privtool", "-o", nothing, cwd=nothing).output.lower()
    assert not list(nothing.rglob("*.*"))
    alice("remove", "-f", "alice/privtool")
    alice("remove", "-f", "alice/privdata")


def test_download_counts(app, alice, server):
    from anarepo.services.downloads import download_counter

    download_counter(app.registry).flush()
    assert api(server, "/dist/alice/dataset/2024.1/data.csv")["ndownloads"] >= 1


def test_show(alice):
    user = alice("show", "alice").output
    assert "alice/mypkg" in user and "alice/pyfoo" in user and "acme" in user
    package = alice("show", "alice/mypkg").output
    assert "My pkg" in package and "1.0" in package and "conda" in package.lower()
    release = alice("show", "alice/mypkg/1.0").output
    assert "noarch/mypkg-1.0-py_0.tar.bz2" in release and "linux-64/mypkg-1.0-h1_0.conda" in release
    dist = alice("show", "alice/mypkg/1.0/noarch/mypkg-1.0-py_0.tar.bz2").output
    assert "sha256" in dist and "noarch" in dist


def test_search(bob):
    out = bob("search", "mypk").output
    assert "alice/mypkg" in out and "Found 1 packages" in out
    row = next(line for line in out.splitlines() if "alice/mypkg" in line)
    assert row.rstrip().endswith("| h1_0, py_0"), row  # the Builds column: builds of the latest version
    assert "alice/pyfoo" in bob("search", "-t", "pypi", "foo").output
    assert "alice/mypkg" in bob("search", "-p", "linux-64", "mypkg").output
    assert "Found 0 packages" in bob("search", "-t", "pypi", "mypkg").output


# -- labels, move, copy -------------------------------------------------------------------
def test_labels(alice, server):
    listing = alice("label", "--list").output
    assert "+ main" in listing
    alice("label", "--copy", "main", "stable")
    assert "+ stable" in alice("label", "--list").output
    show = alice("label", "--show", "stable").output
    assert "alice/mypkg/1.0/noarch/mypkg-1.0-py_0.tar.bz2" in show
    alice("label", "--lock", "stable")
    assert "stable[locked]" in alice("label", "--list").output.replace(" ", "")
    refused = alice("label", "--remove", "stable", ok=False)
    assert "locked" in refused.output
    alice("label", "--unlock", "stable")
    alice("label", "--remove", "stable")
    assert "stable" not in alice("label", "--list").output
    assert api(server, "/dist/alice/mypkg/1.0/noarch/mypkg-1.0-py_0.tar.bz2")["labels"] == ["main"]
    org = alice("label", "-o", "acme", "--list").output
    assert "+ dev" in org


def test_label_remove_never_leaves_files_in_no_channel(alice, files, server):
    """``label --remove main`` used to empty the default channel for good; now
    a removal that would leave a file on no label is refused and changes nothing."""
    main_dist = "/dist/alice/mypkg/1.0/noarch/mypkg-1.0-py_0.tar.bz2"
    refused = alice("label", "--remove", "main", ok=False)
    assert "'main' is the default label and cannot be removed" in refused.output
    assert api(server, main_dist)["labels"] == ["main"]
    assert "+ main" in alice("label", "--list").output
    repodata = json.loads(urllib.request.urlopen(server[1].url + "/conda/alice/noarch/repodata.json").read())
    assert "mypkg-1.0-py_0.tar.bz2" in repodata["packages"]
    alice("upload", "-l", "nightly", "-t", "file", "-p", "nightlies", "-v", "1", "-s", "Nightly", files["data"])
    refused = alice("label", "--remove", "nightly", ok=False)
    assert "would be left in no channel" in refused.output and "anaconda move" in refused.output
    assert api(server, "/dist/alice/nightlies/1/data.csv")["labels"] == ["nightly"]
    alice("remove", "-f", "alice/nightlies")
    alice("label", "--remove", "nightly")
    assert "nightly" not in alice("label", "--list").output


def test_move(alice, server):
    alice("move", "--from-label", "main", "--to-label", "beta", "alice/dataset/2024.1")
    assert api(server, "/dist/alice/dataset/2024.1/data.csv")["labels"] == ["beta"]
    alice("move", "--from-label", "beta", "--to-label", "main", "alice/dataset")
    assert api(server, "/dist/alice/dataset/2024.1/data.csv")["labels"] == ["main"]


def test_copy(alice, bob, server):
    out = alice("copy", "--to-label", "test", "alice/mypkg/1.0").output
    assert "Copied 2 files" in out
    assert api(server, "/dist/alice/mypkg/1.0/noarch/mypkg-1.0-py_0.tar.bz2")["labels"] == ["main", "test"]
    out = alice("copy", "--to-owner", "acme", "alice/dataset/2024.1/data.csv").output
    assert "Copied file: data.csv" in out
    assert api(server, "/dist/acme/dataset/2024.1/data.csv")["sha256"] == api(
        server, "/dist/alice/dataset/2024.1/data.csv")["sha256"]
    conflict = alice("copy", "--to-owner", "acme", "alice/dataset/2024.1/data.csv", ok=False)
    assert "--replace or --update" in conflict.output
    alice("copy", "--to-owner", "acme", "--replace", "alice/dataset/2024.1/data.csv")
    alice("copy", "--to-owner", "acme", "--update", "alice/dataset/2024.1/data.csv")
    refused = bob("copy", "--to-owner", "acme", "alice/dataset/2024.1/data.csv", ok=False)
    assert "permission" in refused.output


# -- packages, collaborators, groups ------------------------------------------------------
def test_package_create_and_collaborators(alice, bob, server):
    alice("package", "--create", "--summary", "Made by hand", "--license", "MIT", "alice/handmade")
    package = api(server, "/package/alice/handmade")
    assert package["summary"] == "Made by hand" and package["license"] == "MIT" and package["public"] is True
    assert "exists already" in alice("package", "--create", "--summary", "x", "alice/handmade", ok=False).output
    alice("package", "--create", "--summary", "Secret", "--private", "alice/secret")
    with pytest.raises(urllib.error.HTTPError) as err:
        api(server, "/package/alice/secret")
    assert err.value.code == 404
    alice("package", "--add-collaborator", "bob", "alice/handmade")
    assert "bob" in alice("package", "--list-collaborators", "alice/handmade").output
    # bob may now upload to it
    bob("upload", "-u", "alice", "-t", "file", "-p", "handmade", "-v", "1", bob.home / "data" / "config.yaml")
    assert api(server, "/dist/alice/handmade/1/config.yaml")["uploader"] == "bob"


def test_groups(alice, bob, server):
    alice("groups", "add", "acme/devs", "--perms", "write")
    assert "devs" in alice("groups", "show", "acme").output
    assert "write" in alice("groups", "show", "acme/devs").output
    # adding it again is refused and leaves its permission alone
    again = alice("groups", "add", "acme/devs", "--perms", "admin", ok=False)
    assert "group acme/devs exists already" in again.output and "Created" not in again.output
    assert "'permission': 'write'" in alice("groups", "show", "acme/devs").output
    alice("groups", "add_member", "acme/devs/bob")
    assert "bob" in alice("groups", "members", "acme/devs").output
    alice("groups", "add_package", "acme/devs/orgdata")
    assert "acme/orgdata" in alice("groups", "packages", "acme/devs").output
    # bob, now a member with write access to orgdata, may upload to it
    bob("upload", "-u", "acme", "-t", "file", "-p", "orgdata", "-v", "2", bob.home / "data" / "config.yaml")
    alice("groups", "remove_package", "acme/devs/orgdata")
    assert "acme/orgdata" not in alice("groups", "packages", "acme/devs").output
    alice("groups", "remove_member", "acme/devs/bob")
    assert "bob" not in alice("groups", "members", "acme/devs").output
    refused = bob("groups", "add", "acme/hackers", ok=False)
    assert "permission" in refused.output


# -- removal ------------------------------------------------------------------------------
def test_remove_file_release_package(alice, server, files):
    alice("upload", files["bz2-2"])
    alice("remove", "-f", "alice/mypkg/1.0/linux-64/mypkg-1.0-h1_0.conda")
    assert "linux-64/mypkg-1.0-h1_0.conda" not in [f["basename"] for f in api(server, "/package/alice/mypkg")["files"]]
    alice("remove", "-f", "alice/mypkg/2.0")
    assert [r["version"] for r in api(server, "/package/alice/mypkg")["releases"]] == ["1.0"]
    alice("remove", "-f", "alice/mypkg")
    with pytest.raises(urllib.error.HTTPError) as err:
        api(server, "/package/alice/mypkg")
    assert err.value.code == 404
    repodata = json.loads(urllib.request.urlopen(server[1].url + "/conda/alice/noarch/repodata.json").read())
    assert "mypkg-1.0-py_0.tar.bz2" not in repodata["packages"]


def test_channel_notices(alice, bob):
    created = alice("channel", "notice", "create", "alice", "--message", "Maintenance tonight", "--level", "warning",
                    "--expires-after", "3").output
    notice_id = next(w for w in created.replace("'", " ").replace('"', " ").split() if w.count("-") == 4)
    alice("channel", "notice", "publish", "alice", notice_id, "--force")
    assert "Maintenance tonight" in bob("channel", "notice", "list", "alice", env={"COLUMNS": "300"}).output
    alice("channel", "notice", "delete", "alice", notice_id, "--force")
    assert "Maintenance tonight" not in bob("channel", "notice", "list", "alice", env={"COLUMNS": "300"}).output
