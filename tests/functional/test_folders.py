"""``Folder.add`` validates the key and locates what it adds; databases written
before folders knew their container learn it in an evolve step."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from anarepo.resources.folder import Folder
from anarepo.resources.packages import Package, Release

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy" / "db-ddb27c0.tar.gz"


@pytest.mark.parametrize("key", ["", ".", "..", "a/../b", "a//b", "/a", "a/", "tab\there", "nul\0", 7, None, "x" * 1001])
def test_add_refuses_keys_no_path_could_carry(key):
    folder = Folder()
    with pytest.raises(KeyError):
        folder.add(key, object())
    assert len(folder) == 0


def test_add_locates_in_the_container_and_refuses_a_second_entry():
    package = Package("tool")
    release = Release("1.0")
    package.releases.add("1.0", release)
    assert (release.__name__, release.__parent__) == ("1.0", package)
    with pytest.raises(KeyError):
        package.releases.add("1.0", Release("1.0"))
    plain = Folder()
    label = type("Label", (), {})()
    plain.add("noarch/x.conda", label)  # a plain mapping: nothing located
    assert not hasattr(label, "__parent__")


def test_folders_of_an_older_database_locate_after_evolving(tmp_path):
    from anarepo import main
    from anarepo.testing import AppHarness, make_settings

    with tarfile.open(LEGACY) as tar:
        tar.extractall(tmp_path, filter="data")
    harness = AppHarness(main({}, **make_settings(tmp_path)))
    try:
        harness.publish_file("alice", "notes", "2", "notes-2.txt", b"two\n")
        harness.make_user("newcomer")
        with harness.root() as root:
            package = root.owners["alice"].get_package("notes")
            release = package.releases["2"]
            assert release.__parent__ is package and release.files["notes-2.txt"].__parent__ is release
            assert root.owners["newcomer"].__parent__ is root
            assert all(o.packages.container is o for o in root.owners.values())
    finally:
        harness.close()
