"""PyPI name confusion: one owner, one PEP 503 project, one package — on every path."""
from __future__ import annotations

import logging

import pytest

from anarepo.package_types.pypi import builders
from anarepo.package_types.pypi.index import name_collisions, report_name_collisions
from anarepo.errors import Conflict
from tests.functional.api.conftest import Api
from tests.functional.pypi.conftest import Uploader

from .hostile import error_of, snapshot

TWINS = ["team_tool", "team.tool", "Team_Tool", "team--tool", "team_.tool", "TEAM.TOOL"]


@pytest.fixture
def team(app, testapp):
    """Org ``team`` (owner alice) with PyPI project team-tool; mallory may write to the namespace
    through a group holding another package, but has no rights on team-tool."""
    app.make_user("alice")
    app.make_user("mallory")
    app.make_org("team", "alice")
    fn, data = builders.wheel("team-tool", "1.0")
    app.upload("team", fn, data)
    app.publish_file("team", "notes", "1", "notes.txt", b"n")
    with app.root() as root:
        from anarepo.services import orgs

        org = root.owners["team"]
        group = orgs.create_group(org, "writers", "write")
        orgs.add_group_member(root, org, group, "mallory")
        orgs.add_group_package(app.registry, org, group, "notes")
    return {"alice": Api(testapp, app.make_token("alice", "cli")),
            "mallory": Api(testapp, app.make_token("mallory", "cli"))}


@pytest.mark.parametrize("twin", TWINS)
def test_api_create_of_a_twin_is_refused(app, team, twin):
    before = snapshot(app)
    r = team["alice"].post(f"/package/team/{twin}", {}, status=409)
    assert "one project on PyPI" in error_of(r)
    assert snapshot(app) == before


@pytest.mark.parametrize("twin", TWINS[:3])
def test_api_upload_of_a_twin_wheel_is_refused(app, team, twin):
    fn, data = builders.wheel(twin, "9.0")
    api = team["alice"]
    before = snapshot(app)
    staged = api.stage("team", twin, "9.0", fn, data, dtype="pypi", status="*")
    if staged.status_int == 200:
        api.s3(staged.json, data, fn)
        r = api.commit("team", twin, "9.0", fn, staged.json["dist_id"], status=409)
    else:
        r = staged
        assert r.status_int == 409
    assert "one project on PyPI" in error_of(r)
    assert {k: v for k, v in snapshot(app).items()} == before


@pytest.mark.parametrize("twin", TWINS[:3])
def test_upload_into_an_older_twin_package_is_refused(app, team, twin):
    """A package made before the PyPI project existed may not get PyPI files later."""
    from anarepo.services.contents import create_package

    with app.root() as root:
        create_package(root.owners["alice"], twin)
    app.upload("alice", *builders.wheel("team-tool", "1.0"))
    fn, data = builders.wheel(twin, "2.0")
    before = snapshot(app)
    with pytest.raises(Conflict, match="one project on PyPI"):
        app.upload("alice", fn, data, name=twin)
    assert snapshot(app) == before


@pytest.mark.parametrize("twin", TWINS[:3])
def test_pypi_upload_of_a_twin_goes_to_the_real_package_and_checks_it(app, testapp, team, twin):
    """twine upload of team_tool lands on team-tool, where mallory has no rights."""
    token = app.make_token("mallory", "up", ["pypi:upload"])
    fn, data = builders.wheel(twin, "9.0")
    before = snapshot(app)
    Uploader(testapp)("/pypi/team/", fn, data, token, name=twin, status=403)
    assert snapshot(app) == before


@pytest.mark.parametrize("twin", TWINS[:3])
def test_transfer_of_a_twin_is_refused(app, team, twin):
    app.upload("alice", *builders.wheel(twin, "1.0"))
    before = snapshot(app)
    r = team["alice"].post(f"/package/alice/{twin}/transfer", {"to_owner": "team"}, status=409)
    assert "one project on PyPI" in error_of(r)
    assert snapshot(app) == before


@pytest.mark.parametrize("twin", TWINS[:3])
def test_transfer_of_a_non_pypi_twin_is_refused(app, team, twin):
    app.publish_file("alice", twin, "1", "x.txt", b"x")
    before = snapshot(app)
    team["alice"].post(f"/package/alice/{twin}/transfer", {"to_owner": "team"}, status=409)
    assert snapshot(app) == before


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize("twin", TWINS[:2])
def test_copy_of_a_twin_is_refused(app, team, twin, method):
    fn, _ = builders.wheel(twin, "1.0")
    app.upload("alice", *builders.wheel(twin, "1.0"))
    api = team["alice"]
    before = snapshot(app)
    call = getattr(api, method)
    r = call(f"/copy/package/alice/{twin}/1.0/{fn}", {"to_owner": "team"}, status=409)
    assert "one project on PyPI" in error_of(r)
    assert snapshot(app) == before


def test_the_same_package_in_another_case_is_not_a_twin(app, team):
    """``Team-Tool`` is the package ``team-tool`` itself: uploads go on."""
    app.upload("team", *builders.wheel("Team-Tool", "2.0"), name="Team-Tool")
    with app.root() as root:
        assert sorted(root.owners["team"].packages["team-tool"].releases.keys()) == ["1.0", "2.0"]


def _place_twin_as_old_code_did(app):
    """A second package holding the same PyPI project, made without the check."""
    from anarepo.resources.packages import Package

    app.registry.package_types["pypi"].check_package_name = lambda owner, name: None
    try:
        with app.root() as root:
            root.owners["team"].add_package(Package("team_tool"))
        app.upload("team", *builders.wheel("team_tool", "9.0"), name="team_tool")
    finally:
        del app.registry.package_types["pypi"].check_package_name


def test_existing_collisions_are_reported_not_merged(app, team, caplog, capsys):
    """A database from before the check: the evolve step and ``reindex --check`` name them."""
    from anarepo import cli

    _place_twin_as_old_code_did(app)
    before = snapshot(app)
    with app.root() as root:
        assert name_collisions(root) == [("team", "team-tool", ("team-tool", "team_tool"))]
        with caplog.at_level(logging.WARNING):
            report_name_collisions(root)
    assert "team-tool, team_tool" in caplog.text
    args = cli.build_parser().parse_args(["-c", "unused.ini", "reindex", "--check"])
    args.quiet = True
    with pytest.raises(cli.CommandError, match="PyPI name collision"):
        cli.cmd_reindex(args, app.registry)
    assert "team_tool" in capsys.readouterr().err
    assert snapshot(app) == before
