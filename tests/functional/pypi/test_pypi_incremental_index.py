"""One more file in an indexed project adds one record (index.add_distribution);
the state must be exactly what a full re-sync of the package computes."""
from __future__ import annotations

from anarepo.package_types.pypi import builders, index
from anarepo.package_types.pypi.index import owner_index, package_records, project_index, sync_package


def project_state(app, label="main", project="demo"):
    with app.root() as root:
        pindex = project_index(root.owners["alice"], label, project)
        return None if pindex is None else (dict(pindex.files.items()), dict(pindex.access), pindex.revision)


def resync_changes_nothing(app, project="demo"):
    with app.root() as root:
        owner = root.owners["alice"]
        before = {label: project_index(owner, label, project).revision for label in owner_index(owner).labels}
        sync_package(owner.get_package(project))
        after = {label: project_index(owner, label, project).revision for label in owner_index(owner).labels}
        expected = package_records(owner.get_package(project))
        for label, records in expected.items():
            assert dict(project_index(owner, label, project).files.items()) == records
    assert before == after  # a full sync found nothing to change


def count_short_cuts(monkeypatch) -> list:
    taken = []
    real = index.add_distribution

    def counting(package, dist):
        taken.append(real(package, dist))
        return taken[-1]

    monkeypatch.setattr(index, "add_distribution", counting)
    return taken


def test_uploads_into_an_indexed_project_match_a_full_resync(app, testapp, monkeypatch):
    taken = count_short_cuts(monkeypatch)
    app.make_user("alice")
    for fn, data in (builders.wheel("demo", "1.0"), builders.sdist("demo", "1.0"), builders.wheel("demo", "2.0")):
        revision = (project_state(app) or (None, None, None))[2]
        app.upload("alice", fn, data)
        files, access, new_revision = project_state(app)
        assert fn in files and new_revision != revision and access == {"demo": "public"}
        resync_changes_nothing(app)
    assert taken == [False, True, True]  # the first file creates the project state
    page = testapp.get("/pypi/alice/simple/demo/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json
    assert [f["filename"] for f in page["files"]] == ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz",
                                                      "demo-2.0-py3-none-any.whl"]


def test_a_new_label_and_a_private_package_take_the_full_path_and_stay_consistent(app, testapp, monkeypatch):
    taken = count_short_cuts(monkeypatch)
    app.make_user("alice")
    app.upload("alice", *builders.wheel("demo", "1.0"))
    fn, data = builders.wheel("demo", "1.1")
    app.upload("alice", fn, data, labels=["dev"])
    assert fn in project_state(app, "dev")[0] and fn not in project_state(app, "main")[0]
    resync_changes_nothing(app)
    from anarepo.services.packages import set_access

    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("demo"), "private")
    fn, data = builders.wheel("demo", "1.2")
    app.upload("alice", fn, data)
    files, access, _ = project_state(app)
    assert fn in files and access == {"demo": "private"}
    assert taken == [False, False, True]  # new project, new label, then one more file
    resync_changes_nothing(app)
    testapp.get("/pypi/alice/simple/demo/", status=404)
