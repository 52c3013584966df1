"""Version order: conda's VersionOrder (py-rattler) for packages, PEP 440 for PyPI-only ones."""
import pytest

from anarepo.versions import conda_key, latest, pep440_key


@pytest.mark.parametrize("old,new", [
    ("1.1.0", "1.1.1w"),        # openssl
    ("2.8.4", "2.8.5_1"),       # conda-forge build-suffixed versions
    ("1.9", "1.10"),
    ("2023.12.31", "2024.01.01"),
    ("1.0rc1", "1.0"),
    ("1.0", "1.0.post1"),
    ("2.0", "1!1.0"),           # epochs
    ("9e", "9f"),               # jpeg
])
def test_conda_order(old, new):
    assert conda_key(old) < conda_key(new)
    assert latest([new, old]) == new and latest([old, new]) == new


def test_pypi_only_packages_keep_pep440():
    # conda ranks 1.0.dev1 above 1.0a1; PEP 440 below
    assert latest(["1.0.dev1", "1.0a1"], scheme="pep440") == "1.0a1"
    assert pep440_key("1.0+local") > pep440_key("1.0")


def test_unparsable_versions_never_raise_and_rank_below():
    assert latest(["not a version!", "1.0"]) == "1.0"
    assert latest(["##", "@@"]) in ("##", "@@")
    assert latest([]) is None


def test_a_package_orders_its_versions_as_its_types_agree_and_merges_without_a_registry(monkeypatch):
    """The order is the types' declaration (``PackageType.version_scheme``), not a
    name the core knows; a package records it, so conflict resolution (which may
    run in a ZEO server where no type is registered) orders as the app did."""
    from anarepo import versions
    from anarepo.resources.packages import Package, Release

    monkeypatch.setattr(versions, "TYPE_SCHEMES", {"wheelish": "pep440", "other": "pep440"})
    package = Package("p")
    for version in ("1.0.dev1", "1.0a1"):
        package.add_release(Release(version))
    package.add_type("wheelish")
    assert (package.version_scheme, package.latest_version) == ("pep440", "1.0a1")
    package.add_type("other")  # types that agree keep their order
    assert package.version_scheme == "pep440"
    package.add_type("conda-ish")  # a mix: conda's order
    assert (package.version_scheme, package.latest_version) == ("conda", "1.0.dev1")

    monkeypatch.setattr(versions, "TYPE_SCHEMES", {})  # as in a ZEO server
    old = {"package_types": ("wheelish",), "version_scheme": "pep440", "latest_version": "0.9"}
    both = [dict(old, latest_version="1.0a1"), dict(old, latest_version="1.0.dev1")]
    assert Package("p")._p_resolveConflict(old, *both)["latest_version"] == "1.0a1"
    mixed = dict(old, package_types=("wheelish", "conda-ish"), version_scheme="conda", latest_version="1.0.dev1")
    merged = Package("p")._p_resolveConflict(old, both[0], mixed)
    assert (merged["version_scheme"], merged["latest_version"]) == ("conda", "1.0.dev1")
