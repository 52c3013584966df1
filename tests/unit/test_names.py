import pytest

from anarepo import names


@pytest.mark.parametrize("name", ["alice", "Alice", "a1", "team-data_2", "x" * 64])
def test_valid_owner_names_normalize_to_lower_case(name):
    assert names.check_owner_name(name) == name.lower()


@pytest.mark.parametrize(
    "name,reason",
    [
        ("api", "reserved"),
        ("conda", "reserved"),
        ("t", "characters"),
        ("label", "reserved"),
        ("a", "characters"),
        ("has space", "characters"),
        ("semi;colon", "characters"),
        ("-dash", "characters"),
        ("x" * 65, "characters"),
        ("../etc", "characters"),
    ],
)
def test_invalid_owner_names_say_why(name, reason):
    with pytest.raises(names.InvalidName, match=reason):
        # the faces reserve their mounts (``api``, ``conda``) in an application
        names.check_owner_name(name, reserved=frozenset({"api", "conda"}))


@pytest.mark.parametrize("basename", ["a.txt", "linux-64/pkg-1.0-0.conda", "my data+1%.txt", "noarch/x-1-py_0.tar.bz2"])
def test_basenames_accepted(basename):
    assert names.check_basename(basename) == basename


@pytest.mark.parametrize(
    "basename",
    ["", "/etc/passwd", "../x", "a/../b", "a/b/c", "a\\b", "x\x00y", "a//b", ".", "noarch/", "x" * 300],
)
def test_basename_path_tricks_refused(basename):
    with pytest.raises(names.InvalidName):
        names.check_basename(basename)


def test_versions_and_labels():
    assert names.check_version("1.0+local.1") == "1.0+local.1"
    for bad in ("files", "1/2", "..", "", "x" * 200):
        with pytest.raises(names.InvalidName):
            names.check_version(bad)
    assert names.check_label("Dev") == "dev"
    for bad in ("nolabel", "1abc", "a/b", ""):
        with pytest.raises(names.InvalidName):
            names.check_label(bad)


def test_package_names():
    assert names.check_package_name("Flask-Bower") == "Flask-Bower"
    assert names.package_key("Flask-Bower") == "flask-bower"
    for bad in ("", "a/b", "..x", "x" * 200, "label"):
        with pytest.raises(names.InvalidName):
            names.check_package_name(bad)
