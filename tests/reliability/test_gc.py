"""``anarepo gc`` removes crash and refusal debris and nothing a record references;
``reindex --check`` verifies every stored file; start-up removes temporary files."""
from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta

import pytest
import webtest
from ZODB.utils import p64

from anarepo import main
from anarepo.services import staging
from anarepo.storage import blob_tmpdir
from anarepo.testing import AppHarness, make_settings
from tests.functional.api.conftest import Api
from tests.functional.test_cli import ini, run  # noqa: F401 - the fixture
from tests.reliability.crash import harness_for

pytestmark = pytest.mark.usefixtures("ini")


def blob_files(var):
    return sorted(p for p in (var / "blobs").rglob("*.blob"))


def test_gc_removes_debris_and_keeps_every_committed_file(ini):
    var = ini.parent / "var"
    app = harness_for(ini)
    app.make_user("alice")
    api = Api(webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"}), app.make_token("alice", "t"))
    kept = secrets.token_bytes(3000)
    api.upload("alice", "kept", "1.0", "kept.bin", kept)
    # a refused upload: its stage blob was committed, then the commit refused it
    junk = secrets.token_bytes(2000)
    staged = api.stage("alice", "bad", "1.0", "noarch/bad-1.0-0.tar.bz2", junk, dtype="conda").json
    api.s3(staged, junk, "bad-1.0-0.tar.bz2")
    api.commit("alice", "bad", "1.0", "noarch/bad-1.0-0.tar.bz2", staged["dist_id"], status=400)
    # a stage that expired, with its bytes
    expired = api.stage("alice", "late", "1.0", "late.bin", b"late").json
    api.s3(expired, b"late", "late.bin")
    with app.root() as root:
        stage = staging.get_stage(root, expired["dist_id"])
        staging.drop(root, stage)
        stage.expires = stage.created - timedelta(seconds=1)
        root.staging.stages[stage.digest] = stage
        root.staging.by_expiry[staging._expiry_key(stage)] = stage.digest
        root.staging.count.change(1)
    # what a killed process leaves: a partial upload, an uncommitted blob, an orphan blob file
    helper = app.db.storage.fshelper
    tmp = blob_tmpdir(app.db)
    for name in ("upload-abc.part", "BUCxyz"):
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(b"partial")
    orphan_dir = helper.createPathForOID(p64(0x7FFFFF))
    with open(os.path.join(orphan_dir, "0x03f0000000000000.blob"), "wb") as f:
        f.write(b"orphan")
    before = blob_files(var)
    app.close()

    result = run("-c", str(ini), "gc", "-v")
    assert result.returncode == 0, result.stderr
    assert "removed 2 partial upload/temporary file(s)" in result.stdout
    assert "dropped 1 expired stage(s)" in result.stdout
    assert "removed 1 orphan blob file(s)" in result.stdout
    assert os.listdir(tmp) == []
    after = blob_files(var)
    assert len(after) == 1  # the committed file only: refused, expired and orphan blobs are gone
    assert len(before) == 4
    check = run("-c", str(ini), "reindex", "--check", "-q")
    assert check.returncode == 0, check.stderr
    assert "verified 1 file(s): 0 missing or damaged" in check.stdout

    app = harness_for(ini)
    try:
        served = webtest.TestApp(app.wsgi_app).get("/api/download/alice/kept/1.0/kept.bin").follow()
        assert hashlib.sha256(served.body).hexdigest() == hashlib.sha256(kept).hexdigest()
    finally:
        app.close()

    again = run("-c", str(ini), "gc")
    assert "removed 0 orphan blob file(s)" in again.stdout and len(blob_files(var)) == 1


def test_reindex_check_reports_missing_and_damaged_blobs(ini):
    app = harness_for(ini)
    app.make_user("alice")
    app.publish_file("alice", "one", "1", "one.bin", b"first file")
    app.publish_file("alice", "two", "1", "two.bin", b"second file")
    with app.root() as root:
        one = root.owners["alice"].get_package("one").releases["1"].files["one.bin"].blob.committed()
        two = root.owners["alice"].get_package("two").releases["1"].files["two.bin"].blob.committed()
    app.close()
    os.chmod(one, 0o644)
    with open(one, "wb") as f:
        f.write(b"first fil!")
    os.unlink(two)
    check = run("-c", str(ini), "reindex", "--check", "-q")
    assert check.returncode == 1
    assert "verified 2 file(s): 2 missing or damaged" in check.stdout
    assert "alice/one/1/one.bin: sha256" in check.stderr
    assert "alice/two/1/two.bin: blob missing" in check.stderr


def test_start_up_removes_the_previous_process_temporary_files(tmp_path):
    app = AppHarness(main({}, **make_settings(tmp_path)))
    tmp = blob_tmpdir(app.db)
    app.close()
    for name in ("upload-1.part", "BUC1", "keep-me"):
        (tmp_path / "var" / "blobs" / "tmp" / name).write_bytes(b"x")
    app = AppHarness(main({}, **make_settings(tmp_path)))
    try:
        assert os.listdir(tmp) == ["keep-me"]
    finally:
        app.close()
