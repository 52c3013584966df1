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
