"""Decompression and parse bombs of every archive format: refused with 413 under the
work budget, on every way in, leaving nothing behind.

The app here runs with a small budget (8 MiB floor, ratio 4, 2,000 members) so
that the cases are quick; the production numbers are in docs/security.md and
bench/bombs.py sends the issue's full-size bombs to a real server.
"""
from __future__ import annotations

import bz2
import gzip

import threading
import time

import pytest

from anarepo.plugins import BudgetExceeded
from anarepo.testing import csrf_from, make_settings, web_login
from tests.functional.api.conftest import Api
from tests.functional.pypi.conftest import Uploader

from . import bombs
from .hostile import error_of, snapshot

MiB = bombs.MiB
SMALL_BUDGET = {
    "anarepo.inspect.decompressed_floor": str(8 * MiB),
    "anarepo.inspect.decompressed_ratio": "4",
    "anarepo.inspect.members": "2000",
}

CASES = {
    "conda-bz2-zeros-first": lambda: bombs.conda_zeros_before_info(64 * MiB),
    "conda-paths-json": lambda: bombs.conda_huge_paths_json(20 * MiB),
    "conda-zst-zeros-in-info": lambda: bombs.dot_conda_zeros_in_info(32 * MiB),
    "project-gzip-multimember": lambda: bombs.project_multi_member_gzip(64 * MiB),
    "project-bz2-multistream": lambda: ("bz.tar.bz2", bombs.tar_with_zeros_first(
        bz2.compress, "bz/data.bin", 64 * MiB, {"bz/anaconda-project.yml": b"name: bz\n"}), "project"),
    "project-many-members": lambda: bombs.project_many_members(2500),
    "project-zip-huge-spec": lambda: bombs.project_zip_huge_spec(16 * MiB),
    "r-zeros-first": lambda: bombs.r_zeros_before_description(64 * MiB),
    "sdist-zeros-first": lambda: bombs.sdist_zeros_before_pkg_info(64 * MiB),
    "wheel-huge-metadata": lambda: bombs.wheel_huge_metadata(16 * MiB),
    "wheel-many-members": lambda: bombs.wheel_many_members(2500),
}


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **SMALL_BUDGET)


@pytest.fixture
def alice(app, testapp):
    app.make_user("alice")
    app.publish_file("alice", "keep", "1", "keep.txt", b"kept")
    return Api(testapp, app.make_token("alice", "cli"))


def _name_version(filename: str, type_name: str):
    if type_name == "conda":
        return filename.split("-")[0], "1.0"
    if type_name == "pypi":
        stem = filename.rsplit(".whl", 1)[0].rsplit(".tar.gz", 1)[0]
        return stem.split("-")[0], stem.split("-")[1]
    if type_name == "r":
        return filename.split("_")[0], "1.0"
    return filename.split(".")[0], "1"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bomb_through_the_api_upload(app, alice, case):
    filename, data, type_name = CASES[case]()
    name, version = _name_version(filename, type_name)
    basename = f"noarch/{filename}" if type_name == "conda" else filename
    before = snapshot(app)
    started = time.process_time()
    staged = alice.stage("alice", name, version, basename, data, dtype=type_name).json
    alice.s3(staged, data, filename)
    r = alice.commit("alice", name, version, basename, staged["dist_id"], status=413)
    assert "refused" in error_of(r) or "larger than" in error_of(r) or "too large" in error_of(r)
    assert time.process_time() - started < 30
    assert {k: v for k, v in snapshot(app).items()} == before


@pytest.mark.parametrize("case", sorted(CASES))
def test_bomb_through_the_publishing_path(app, alice, case):
    """``publish_upload`` (web uploads, ``anarepo import``, the harness) with detection."""
    filename, data, _ = CASES[case]()
    before = snapshot(app)
    with pytest.raises(BudgetExceeded):
        app.upload("alice", filename, data)
    assert snapshot(app) == before


@pytest.mark.parametrize("case", ["sdist-zeros-first", "wheel-huge-metadata", "wheel-many-members"])
def test_bomb_through_the_pypi_upload(app, testapp, alice, case):
    filename, data, _ = CASES[case]()
    name, version = _name_version(filename, "pypi")
    token = app.make_token("alice", "up", ["pypi:upload"])
    before = snapshot(app)
    r = Uploader(testapp)("/pypi/alice/", filename, data, token, name=name, version=version, status=413)
    assert r.status_int == 413
    assert snapshot(app) == before


@pytest.mark.parametrize("case", ["conda-bz2-zeros-first", "project-gzip-multimember", "r-zeros-first"])
def test_bomb_through_the_web_upload(app, testapp, alice, case):
    filename, data, _ = CASES[case]()
    web_login(testapp, "alice")
    page = testapp.get("/upload")
    before = snapshot(app)
    r = testapp.post("/upload", {"csrf_token": csrf_from(page), "owner": "alice", "access": "public",
                                 "type": "", "name": "", "version": "", "label": ""},
                     upload_files=[("file", filename, data)], status=413)
    assert "larger than" in r.text or "refused" in r.text or "too large" in r.text
    assert snapshot(app) == before


def test_honest_archives_still_pass(app, alice):
    """The floor and ratio leave room for ordinary packages of every kind."""
    from anarepo.package_types.pypi import builders
    from tests import builders as files
    from tests.conda_builders import build_package

    app.upload("alice", *build_package("honest", "1.0")[:2])
    app.upload("alice", *builders.wheel("honest-py", "1.0"))
    app.upload("alice", *builders.sdist("honest-sd", "1.0"))
    app.upload("alice", "myproject.tar.gz", files.project_archive(), version="1")
    app.upload("alice", "mypkg_1.2.3.tar.gz", files.r_package())


def test_large_notebooks_are_kept_but_not_rendered(app, alice):
    filename, data, _ = bombs.notebook_many_cells(400)
    started = time.process_time()
    app.upload("alice", filename, data)
    assert time.process_time() - started < 10
    with app.root() as root:
        dist = next(root.owners["alice"].packages["bignb"].distributions())
        with dist.extras["ipynb"].open("r") as f:
            assert b"too large to show" in f.read()


# -- forms ------------------------------------------------------------------------------

def _staged(alice, data=b"data"):
    return alice.stage("alice", "formpkg", "1", "f.txt", data).json


@pytest.mark.parametrize("fields,reason", [
    ([(f"x-{i}", "v") for i in range(300)], "more than 256 parts"),
    ([(f"y-{i}", "v" * 60_000) for i in range(20)], "larger than 1048576 bytes"),
    ([("big", "v" * 70_000)], "too large"),
])
def test_s3_form_fields_are_bounded(app, testapp, alice, fields, reason):
    staged = _staged(alice)
    url = staged["post_url"].split("://", 1)[1].split("/", 1)[1]
    before = snapshot(app)
    r = testapp.post("/" + url, list(staged["form_data"].items()) + fields,
                     upload_files=[("file", "f.txt", b"data")], status=400)
    assert reason in r.text
    assert snapshot(app) == before
    with app.root() as root:  # the stage is still waiting for its file
        from anarepo.services import staging

        assert not staging.get_stage(root, staged["dist_id"]).uploaded


def test_pypi_form_parts_are_bounded(app, testapp, alice):
    from anarepo.package_types.pypi import builders

    token = app.make_token("alice", "up2", ["pypi:upload"])
    fn, data = builders.wheel("formy", "1.0")
    extra = {f"junk{i}": "v" for i in range(5000)}  # past the PyPI upload's 4096 parts
    before = snapshot(app)
    Uploader(testapp)("/pypi/alice/", fn, data, token, status=400, **extra)
    assert snapshot(app) == before


# -- the pool ----------------------------------------------------------------------------

def test_a_full_inspection_pool_answers_503_after_its_bounded_wait(app, alice):
    """With every worker and queue slot taken beyond ``queue_wait``, an upload is refused
    (Retry-After) and nothing is stored."""
    from tests.conda_builders import build_package

    pool = app.registry.anarepo_inspection
    pool.queue_wait = 1.0
    release = threading.Event()
    held = [threading.Thread(target=lambda: pool.run(0, release.wait)) for _ in range(4)]
    for thread in held:
        thread.start()
    try:
        for _ in range(100):
            if pool.slots._value == 0:
                break
            time.sleep(0.01)
        fn, data = build_package("busy", "1.0")
        before = snapshot(app)
        started = time.monotonic()
        staged = alice.stage("alice", "busy", "1.0", f"noarch/{fn}", data, dtype="conda").json
        alice.s3(staged, data, fn)
        r = alice.commit("alice", "busy", "1.0", f"noarch/{fn}", staged["dist_id"], status=503)
        assert 1.0 <= time.monotonic() - started < 5  # it waited for a place, boundedly
        assert r.headers["Retry-After"] == "5" and "busy" in error_of(r)
        assert snapshot(app) == before
    finally:
        release.set()
        for thread in held:
            thread.join()
    alice.commit("alice", "busy", "1.0", f"noarch/{fn}", staged["dist_id"], status=200)


def test_budget_counts_bytes_seeked_over(tmp_path):
    """Random-access tar reading seeks over member data; the seek is charged too."""
    from anarepo.package_types.archives import tar_members
    from anarepo.plugins.budget import Limits, WorkBudget, budget_scope

    path = tmp_path / "seek.tar.gz"
    path.write_bytes(gzip.compress(bombs._tar_bytes({"a/big.bin": bytes(20 * MiB), "a/b": b"x"}), 1))
    budget = WorkBudget(0, Limits(decompressed_floor=4 * MiB, decompressed_ratio=0))
    with budget_scope(budget), pytest.raises(BudgetExceeded):
        for _member, _tar in tar_members(path, "seek.tar.gz"):
            pass
    assert budget.decompressed > 4 * MiB

