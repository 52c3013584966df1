"""Name rules match the whole string: ``$`` also matches before a final newline,
so ``nl`` and ``nl\\n`` were two different, accepted packages."""
import pytest

from anarepo import names

CHECKS = [names.check_package_name, names.check_version, names.check_label, names.check_basename]
NORMALIZED = [names.check_owner_name, names.check_group_name, names.check_email]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("suffix", ["\n", "\r\n"])
def test_a_trailing_newline_is_refused(check, suffix):
    check("nl1")  # the name itself is fine
    with pytest.raises(names.InvalidName):
        check("nl1" + suffix)


@pytest.mark.parametrize("check", NORMALIZED, ids=lambda c: c.__name__)
def test_owner_group_and_email_are_stripped_so_a_newline_is_the_same_name(check):
    value = "a@example.com" if check is names.check_email else "nl1"
    assert check(value + "\n") == check(value) == value
    with pytest.raises(names.InvalidName):
        check(value.replace("1", "\n1").replace("@", "\n@"))
