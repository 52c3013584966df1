"""``anarepo import`` and ``anarepo reindex`` as real subprocesses on a real .ini."""
from __future__ import annotations

import pytest
import webtest

from tests.conda_builders import write_package
from tests.functional.test_cli import ini, run  # noqa: F401 - the .ini fixture and the subprocess runner


@pytest.fixture
def alice_ini(ini):
    assert run("-c", str(ini), "user", "add", "alice", "--email", "a@example.com", "--password-stdin",
               stdin="a-long-password\n").returncode == 0
    return ini


@pytest.fixture
def channel_dir(tmp_path):
    directory = tmp_path / "alice"
    write_package(directory, "tool", "1.0", depends=["lib"])
    write_package(directory, "tool", "1.1", fmt=".conda", depends=["lib"])
    write_package(directory, "lib", "1.0", "h0", subdir="linux-64", fmt=".conda")
    (directory / "noarch" / "repodata.json").write_text("{}")  # existing index files are ignored
    (directory / "README").write_text("not a subdir")
    return directory


def served(ini):
    from anarepo import main

    app = main({"__file__": str(ini), "here": str(ini.parent)},
               **{"zodbconn.uri": f"file://{ini.parent}/var/Data.fs?blob_dir={ini.parent}/var/blobs"})
    return app, webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


def test_import_then_reindex_check(alice_ini, channel_dir):
    ini = alice_ini
    result = run("-c", str(ini), "import", str(channel_dir), "--label", "dev")
    assert result.returncode == 0, result.stderr
    assert "imported 3 file(s), labelled 0, skipped 0, failed 0" in result.stdout
    assert "import alice/dev" in result.stderr  # the tqdm progress bar
    again = run("-c", str(ini), "import", str(channel_dir), "--owner", "alice", "--label", "dev", "-q")
    assert "imported 0 file(s), labelled 0, skipped 3" in again.stdout
    main_label = run("-c", str(ini), "import", str(channel_dir), "--owner", "alice", "-q")
    assert "imported 0 file(s), labelled 3, skipped 0" in main_label.stdout
    check = run("-c", str(ini), "reindex", "--check", "--reinspect")
    assert check.returncode == 0, check.stderr
    assert "reindexed 2 package index(es) (conda, pypi, r); the rebuilt index is identical to the kept one" in check.stdout
    app, testapp = served(ini)
    try:
        for prefix in ("/conda/alice", "/conda/alice/label/dev"):
            doc = testapp.get(f"{prefix}/noarch/repodata.json").json
            assert set(doc["packages"]) == {"tool-1.0-0.tar.bz2"} and set(doc["packages.conda"]) == {"tool-1.1-0.conda"}
            assert set(testapp.get(f"{prefix}/linux-64/repodata.json").json["packages.conda"]) == {"lib-1.0-h0.conda"}
        assert testapp.get("/conda/alice/linux-64/lib-1.0-h0.conda").body == (
            channel_dir / "linux-64" / "lib-1.0-h0.conda").read_bytes()
    finally:
        app.app.registry._zodb_databases[""].close()


def test_import_reports_bad_files_and_keeps_the_good_ones(alice_ini, channel_dir):
    ini = alice_ini
    (channel_dir / "noarch" / "broken-1.0-0.tar.bz2").write_bytes(b"BZh9 not really")
    renamed = channel_dir / "noarch" / "other-1.0-0.tar.bz2"
    renamed.write_bytes((channel_dir / "noarch" / "tool-1.0-0.tar.bz2").read_bytes())
    result = run("-c", str(ini), "import", str(channel_dir), "--owner", "alice", "-q")
    assert result.returncode == 1
    assert "imported 3 file(s), labelled 0, skipped 0, failed 2" in result.stdout
    assert "broken-1.0-0.tar.bz2: broken-1.0-0.tar.bz2: not a valid conda package" in result.stderr
    assert "does not match its metadata" in result.stderr


def test_import_errors(alice_ini, channel_dir, tmp_path):
    ini = alice_ini
    assert "no owner named 'nobody'" in run("-c", str(ini), "import", str(channel_dir), "--owner", "nobody").stderr
    assert "is not a directory" in run("-c", str(ini), "import", str(tmp_path / "missing")).stderr
    assert "invalid label" in run("-c", str(ini), "import", str(channel_dir), "--label=9bad").stderr
