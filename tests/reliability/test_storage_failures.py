"""A full or read-only disk: a clear status in the face's format, nothing half-written,
and the next upload works once the disk is fine again.

Two ways to fill the disk: the real one (the whole ``var/`` on a tiny tmpfs,
served by waitress; needs the right to mount, so root) and an injected
``OSError(ENOSPC)`` at the operating-system call spooling uploads use (always).
"""
from __future__ import annotations

import errno
import hashlib
import os
import secrets
import subprocess

import pytest
import requests
import webtest

import anarepo.storage
from anarepo.package_types.pypi import builders
from anarepo.testing import AppHarness, LiveServer, make_settings
from tests.functional.api.conftest import Api
from tests.functional.pypi.conftest import Uploader


def leftovers(app) -> list[str]:
    tmp = anarepo.storage.blob_tmpdir(app.db)
    return sorted(os.listdir(tmp))


class FullDisk:
    """``os`` for anarepo.storage, whose files fail with ENOSPC after ``room`` bytes."""

    def __init__(self, room: int = 1000, code: int = errno.ENOSPC):
        self.room, self.code, self.failed = room, code, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, fd, mode="r", *args, **kw):
        real = os.fdopen(fd, mode, *args, **kw)
        disk = self

        class Writer:
            written = 0

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()

            def write(self, data):
                if self.written + len(data) > disk.room:
                    disk.failed += 1
                    raise OSError(disk.code, os.strerror(disk.code))
                self.written += len(data)
                return real.write(data)

        return Writer()


@pytest.fixture
def alice(app, testapp):
    app.make_user("alice")
    return Api(testapp, app.make_token("alice", "cli"))


def test_pypi_upload_on_a_full_disk_is_507_and_the_next_one_works(app, testapp, alice, monkeypatch):
    filename, data = builders.wheel("full", "1.0", code="DATA = %r\n" % secrets.token_hex(20_000))
    disk = FullDisk()
    monkeypatch.setattr(anarepo.storage, "os", disk)
    upload = Uploader(testapp)
    refused = upload("/pypi/alice/", filename, data, token=alice.token, status=507)
    assert disk.failed == 1
    assert refused.content_type == "text/plain" and "storage is full" in refused.text
    assert leftovers(app) == []
    testapp.get("/pypi/alice/simple/full/", status=404)
    monkeypatch.undo()
    upload("/pypi/alice/", filename, data, token=alice.token, status=200)
    served = testapp.get(f"/pypi/alice/files/full/1.0/{filename}")
    assert hashlib.sha256(served.body).hexdigest() == hashlib.sha256(data).hexdigest()


def test_api_form_post_on_a_full_disk_is_507_and_the_stage_stays_usable(app, alice, monkeypatch):
    data = secrets.token_bytes(20_000)
    staged = alice.stage("alice", "full", "1.0", "data.bin", data).json
    monkeypatch.setattr(anarepo.storage, "os", FullDisk())
    refused = alice.s3(staged, data, "data.bin", status=507)
    assert refused.content_type == "application/xml" and b"<Error>" in refused.body
    assert leftovers(app) == []
    alice.commit("alice", "full", "1.0", "data.bin", staged["dist_id"], status=400)  # nothing uploaded
    monkeypatch.undo()
    alice.s3(staged, data, "data.bin")
    alice.commit("alice", "full", "1.0", "data.bin", staged["dist_id"])
    assert alice.get("/package/alice/full").json["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_read_only_disk_is_503_with_retry_after_in_json(app, alice, monkeypatch):
    data = secrets.token_bytes(5_000)
    staged = alice.stage("alice", "ro", "1.0", "data.bin", data).json
    monkeypatch.setattr(anarepo.storage, "os", FullDisk(room=0, code=errno.EROFS))
    refused = alice.s3(staged, data, "data.bin", status=503)
    assert refused.headers["Retry-After"]
    assert b"cannot write to its storage" in refused.body
    assert leftovers(app) == []


# -- the real thing: a tiny tmpfs ---------------------------------------------------
def _mount(path, options):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path):
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    if os.geteuid() != 0 or _mount(mountpoint, "size=3m").returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _remount(path, options):
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def test_real_full_and_read_only_disks_over_http(tiny_disk):
    from anarepo import main

    harness = AppHarness(main({}, **make_settings(tiny_disk)))
    live = LiveServer(harness.wsgi_app).start()
    try:
        harness.make_user("alice")
        token = harness.make_token("alice", "ci")
        auth = ("__token__", token)
        big = builders.wheel("big", "1.0", code="DATA = %r\n" % secrets.token_hex(4_000_000))
        small = builders.wheel("small", "1.0")

        def upload(filename, data):
            return requests.post(f"{live.url}/pypi/alice/", auth=auth, files={"content": (filename, data)},
                                 data={":action": "file_upload", "protocol_version": "1", "name": filename.split("-")[0],
                                       "version": "1.0", "sha256_digest": hashlib.sha256(data).hexdigest()})

        full = upload(*big)
        assert full.status_code == 507, full.text
        assert "storage is full" in full.text
        assert leftovers(harness) == []
        assert requests.get(f"{live.url}/pypi/alice/simple/big/").status_code == 404

        # a read-only file system over the blob temporary directory (the database
        # file is open for writing, so the disk itself cannot be remounted)
        tmpdir = anarepo.storage.blob_tmpdir(harness.db)
        assert _mount(tmpdir, "ro,size=1m").returncode == 0
        try:
            refused = upload(*small)
        finally:
            subprocess.run(["umount", tmpdir], check=True)
        assert refused.status_code == 503 and refused.headers["Retry-After"], refused.text
        assert "cannot write to its storage" in refused.text
        _remount(tiny_disk, "size=64m")

        for filename, data in (big, small):
            assert upload(filename, data).status_code == 200
            name = filename.split("-")[0]
            served = requests.get(f"{live.url}/pypi/alice/files/{name}/1.0/{filename}")
            assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(data).hexdigest()
        assert leftovers(harness) == []
    finally:
        live.stop()
        harness.close()


def test_an_error_outside_pyramid_is_still_the_faces_500(app, testapp, monkeypatch):
    """A failure in a WSGI middleware (here the replay cache) never reaches waitress."""
    def broken(environ, start_response):
        raise RuntimeError("middleware bug")

    monkeypatch.setattr(testapp.app.app, "app", broken)  # LastResort → (broken) replay
    api = testapp.get("/api/user", status=500)
    assert api.json == {"error": "internal server error; the operators have the details in the log"}
    conda = testapp.get("/conda/alice/noarch/repodata.json", status=500)
    assert conda.content_type == "text/plain" and "internal server error" in conda.text


def test_a_database_that_refuses_writes_is_503_with_retry_after(tmp_path):
    """A read-only database (ReadOnlyError at commit) answers 503 in each face's format."""
    from anarepo import main

    first = AppHarness(main({}, **make_settings(tmp_path)))
    first.make_user("alice")
    token = first.make_token("alice", "ci")
    first.close()
    settings = make_settings(tmp_path)
    settings["zodbconn.uri"] += "&read_only=1"
    harness = AppHarness(main({}, **settings))
    try:
        testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        filename, data = builders.wheel("ro", "1.0")
        refused = Uploader(testapp)("/pypi/alice/", filename, data, token=token, status=503)
        assert refused.headers["Retry-After"] and "database is unavailable" in refused.text
        api = Api(testapp, token)
        staged = api.stage("alice", "ro", "1.0", "f.bin", b"x", status=503)
        assert staged.json == {"error": "the database is unavailable; try again later"}
        assert leftovers(harness) == []
    finally:
        harness.close()


# -- waitress's own body buffer (TMPDIR) ----------------------------------------------
class FullTempfile:
    """waitress's temporary buffer file on a full file system: writes fail with ``code``."""

    def __init__(self, code: int = errno.ENOSPC):
        self.code, self.failed = code, 0

    def __call__(self, buffer=None):
        import tempfile

        real, disk = tempfile.TemporaryFile("w+b"), self

        class File:
            def __getattr__(self, name):
                return getattr(real, name)

            def write(self, data):
                disk.failed += 1
                raise OSError(disk.code, os.strerror(disk.code))

        return File()


def pypi_upload(url, token, filename, data):
    return requests.post(f"{url}/pypi/alice/", auth=("__token__", token), files={"content": (filename, data)},
                         data={":action": "file_upload", "protocol_version": "1", "name": filename.split("-")[0],
                               "version": "1.0", "sha256_digest": hashlib.sha256(data).hexdigest()})


def big_wheel(name: str):
    """Above waitress's ``inbuf_overflow`` (512 KiB): its body is spooled to a temporary file."""
    return builders.wheel(name, "1.0", code="DATA = %r\n" % secrets.token_hex(600_000))


@pytest.mark.parametrize("code, status", [(errno.ENOSPC, 507), (errno.EFBIG, 507), (errno.EROFS, 503)])
def test_a_body_waitress_cannot_buffer_is_answered_not_dropped(app, alice, monkeypatch, code, status):
    import waitress.buffers

    live = LiveServer(app.wsgi_app).start()
    try:
        filename, data = big_wheel("buffered")
        disk = FullTempfile(code)
        monkeypatch.setattr(waitress.buffers.TempfileBasedBuffer, "newfile", disk)
        refused = pypi_upload(live.url, alice.token, filename, data)  # was: ConnectionError
        assert refused.status_code == status, refused.text
        assert disk.failed and "nothing was stored" in refused.text
        assert (status == 503) == bool(refused.headers.get("Retry-After"))
        api = requests.post(f"{live.url}/api/package/alice/buffered", data=data,
                            headers={"Authorization": f"token {alice.token}", "Content-Type": "application/json"})
        assert api.status_code == status and "nothing was stored" in api.json()["error"]
        assert requests.get(f"{live.url}/pypi/alice/simple/buffered/").status_code == 404
        monkeypatch.undo()  # space is back: the same server takes the upload
        assert pypi_upload(live.url, alice.token, filename, data).status_code == 200
        served = requests.get(f"{live.url}/pypi/alice/files/buffered/1.0/{filename}")
        assert hashlib.sha256(served.content).digest() == hashlib.sha256(data).digest()
    finally:
        live.stop()


def test_a_full_tmpdir_over_http(tiny_disk, app, alice, monkeypatch):
    """The real thing: waitress's temporary directory on a full tmpfs."""
    import tempfile

    filler = tiny_disk / "filler"
    with open(filler, "wb") as out:  # fill the 3 MiB file system
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    monkeypatch.setattr(tempfile, "tempdir", str(tiny_disk))
    live = LiveServer(app.wsgi_app).start()
    try:
        filename, data = big_wheel("tmpdir")
        refused = pypi_upload(live.url, alice.token, filename, data)
        assert refused.status_code == 507 and "temporary storage is full" in refused.text
        assert os.listdir(tiny_disk) == ["filler"]
        filler.unlink()
        assert pypi_upload(live.url, alice.token, filename, data).status_code == 200
    finally:
        live.stop()
