"""The listing rules through the real ``anaconda`` CLI (groups, show USER, labels, package --create).

The world of :mod:`.leak_world` on a live server: what ``anaconda`` prints to a
member of another group, a stranger and a Read-Write member never names a
secret; the org owner's output does (so the commands reach them).
"""
from __future__ import annotations

import pytest
from tests.clients.anaconda_cli import AnacondaCli

from anarepo.testing import DEFAULT_PASSWORD, served_app

from .leak_world import build, leaked

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("leaks-server")) as (harness, live):
        build(harness)
        clis = {}
        for login in ("alice", "rita", "wade", "olive"):
            cli = AnacondaCli(tmp_path_factory.mktemp(f"{login}-home"), live.url + "/api")
            cli("login", "--username", login, "--password", DEFAULT_PASSWORD)
            clis[login] = cli
        yield clis


def test_groups_of_others_are_not_shown_to_a_member(people):
    rita = people["rita"]
    listed = rita("groups", "show", "acme").output
    assert "readers" in listed and not leaked(listed) and "writers" not in listed
    for action in ("show", "members", "packages"):
        out = rita("groups", action, "acme/zqhidden", ok=False).output
        assert not leaked(out.replace("acme/zqhidden", "")), out
        assert "not found" in out.lower() or "404" in out
    assert "zqhidden" in people["alice"]("groups", "show", "acme").output
    assert "zqdana" in people["alice"]("groups", "members", "acme/zqhidden").output


def test_show_user_lists_no_membership_to_a_stranger(people):
    out = people["olive"]("show", "rita").output
    assert "acme" not in out
    assert "acme" in people["rita"]("show", "rita").output


def test_label_list_names_no_label_of_private_packages_only(people):
    out = people["olive"]("label", "-o", "acme", "--list").output
    assert "main" in out and not leaked(out)
    assert "zqhush" in people["alice"]("label", "-o", "acme", "--list").output


def test_creating_a_hidden_name_says_nothing_of_it(people):
    out = people["wade"]("package", "--create", "acme/zqsecret-conda", ok=False).output
    assert "exists" not in out and "409" not in out
    assert "permission" in out.lower() or "403" in out
