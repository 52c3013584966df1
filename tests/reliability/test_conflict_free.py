"""Two transactions publishing different files into one package both commit.

Each test opens two connections on the real FileStorage, publishes one file in
each from the same starting state, and commits both: the second commit must
resolve (``_p_resolveConflict``) instead of raising ``ConflictError``.
"""
from __future__ import annotations

import io

import pytest
import transaction
from ZODB.POSException import ConflictError

from anarepo.package_types.pypi import builders
from anarepo.services.publishing import inspect_upload, publish, resolve_type
from anarepo.storage import blob_tmpdir, spool
from tests.conda_builders import build_package


def _open(app):
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    conn = app.db.open(transaction_manager=tm)
    return tm, conn, conn.root()["anarepo"]


def _upload(app, root, filename, data):
    spooled = spool(io.BytesIO(data), blob_tmpdir(app.db), max_size=1 << 30)
    ptype = resolve_type(app.registry, filename, spooled.path)
    info = inspect_upload(ptype, spooled.path, filename)
    return publish(root.owners["alice"], spooled, ptype, info, uploader="alice", operator=app.registry)


def _both(app, first, second):
    """Run ``first(root)`` and ``second(root)`` in two concurrent transactions; commit both."""
    (tm1, c1, r1), (tm2, c2, r2) = _open(app), _open(app)
    try:
        first(r1)
        second(r2)
        tm1.commit()
        tm2.commit()
    finally:
        c1.close()
        c2.close()


@pytest.fixture
def alice(app):
    app.make_user("alice")
    name, data = builders.wheel("hot", "0.1")
    app.upload("alice", name, data)  # the package and its indexes exist already
    return app


def test_two_wheels_into_one_project_do_not_conflict(alice):
    w1, w2 = builders.wheel("hot", "1.0"), builders.wheel("hot", "2.0")
    _both(alice, lambda r: _upload(alice, r, *w1), lambda r: _upload(alice, r, *w2))
    with alice.root() as root:
        package = root.owners["alice"].get_package("hot")
        assert sorted(package.releases.keys()) == ["0.1", "1.0", "2.0"]
        assert package.latest_version == "2.0"
        assert package.file_count() == 3
        from anarepo.package_types.pypi.index import project_index

        assert sorted(project_index(root.owners["alice"], "main", "hot").files) == sorted(
            [builders.wheel("hot", v)[0] for v in ("0.1", "1.0", "2.0")])


def test_conda_and_pypi_files_into_one_package_merge_the_type_list(alice):
    conda = build_package("hot", "3.0", subdir="linux-64")
    wheel = builders.wheel("hot", "1.5")
    _both(alice, lambda r: _upload(alice, r, f"linux-64/{conda[0]}", conda[1]), lambda r: _upload(alice, r, *wheel))
    with alice.root() as root:
        package = root.owners["alice"].get_package("hot")
        assert set(package.package_types) == {"conda", "pypi"}
        assert package.latest_version == "3.0"
        assert {d.basename for d in package.distributions()} >= {f"linux-64/{conda[0]}", wheel[0]}


def test_a_real_conflict_still_conflicts(alice):
    """Both sides change the summary differently: no merge is well defined."""

    def summary(text):
        return lambda root: setattr(root.owners["alice"].get_package("hot"), "summary", text)

    with pytest.raises(ConflictError):
        _both(alice, summary("one"), summary("two"))


def test_a_removal_racing_an_upload_is_not_merged(alice):
    """One side lowers the latest version (release removed), the other adds one: retried."""
    from anarepo.services.contents import remove_release

    wheel = builders.wheel("hot", "0.5")
    with alice.root() as root:
        _upload(alice, root, *builders.wheel("hot", "0.9"))

    def remove(root):
        package = root.owners["alice"].get_package("hot")
        remove_release(alice.registry, package.releases["0.9"])

    with pytest.raises(ConflictError):
        _both(alice, remove, lambda r: _upload(alice, r, *wheel))


def test_the_merged_latest_version_of_a_pypi_project_is_pep_440s(alice):
    """conda's order puts 1.0.dev0 after 1.0a1, PEP 440 before it; a PyPI-only package
    is ordered by PEP 440 (``Package.refresh_latest``), and so is a merge of two uploads."""
    pre, dev = builders.wheel("hot", "1.0a1"), builders.wheel("hot", "1.0.dev0")
    _both(alice, lambda r: _upload(alice, r, *pre), lambda r: _upload(alice, r, *dev))
    with alice.root() as root:
        assert root.owners["alice"].get_package("hot").latest_version == "1.0a1"


@pytest.mark.parametrize("order", ["deactivation first", "deactivation second"])
def test_a_concurrent_recheck_never_undoes_a_deactivation(app, order):
    """Two processes re-check one directory user at once: one finds the user removed
    (``active`` false), the other only records a later ``checked``.  Whichever commits
    first, the merge keeps the removal (before: the newer ``checked`` won whole)."""
    from anarepo.security.external import ExternalAccount

    with app.root() as root:
        root.external_accounts.accounts["carol"] = account = ExternalAccount("ldap", "uid=carol")
        account.checked = 100.0

    def removed(root):
        fresh = root.external_accounts.accounts["carol"]
        fresh.checked, fresh.active = 150.0, False

    def touched(root):
        root.external_accounts.accounts["carol"].checked = 200.0

    first, second = (removed, touched) if order == "deactivation first" else (touched, removed)
    _both(app, first, second)
    with app.root() as root:
        account = root.external_accounts.accounts["carol"]
        assert account.active is False and account.checked == 200.0
