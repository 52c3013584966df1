"""``X-Accel-Redirect`` (anarepo/deploy/xaccel.py): every face's file download names the
blob file for nginx after the app authorized it, keeping the app's headers; 304s,
refusals and everything else are answered by the app as before."""
from __future__ import annotations

import os

import pytest

from anarepo.package_types.pypi import builders
from anarepo.testing import make_settings
from anarepo.http.blobs import SANDBOX_CSP
from tests.conda_builders import build_package, publish_conda

LOCATION = "/_anarepo_blobs/"


@pytest.fixture
def anarepo_settings(tmp_path):
    blobs = tmp_path / "var" / "blobs"
    return make_settings(tmp_path, **{"anarepo.x_accel.location": LOCATION, "anarepo.x_accel.root": str(blobs)})


@pytest.fixture
def files(app):
    app.make_user("alice")
    conda_fn, conda_data = build_package("tool", "1.0")
    publish_conda(app, "alice", conda_fn, conda_data)
    wheel, wheel_data = builders.wheel("demo", "1.0")
    app.upload("alice", wheel, wheel_data)
    app.publish_file("alice", "notes", "1", "notes.txt", b"plain text\n")
    return {"conda": (conda_fn, conda_data), "pypi": (wheel, wheel_data), "file": ("notes.txt", b"plain text\n")}


def blob_bytes(app, response) -> bytes:
    target = response.headers["X-Accel-Redirect"]
    assert target.startswith(LOCATION) and ".." not in target
    root = app.registry.settings["anarepo.x_accel.root"]
    with open(os.path.join(root, target[len(LOCATION):]), "rb") as f:
        return f.read()


def test_every_face_names_the_blob_and_keeps_its_headers(app, testapp, files):
    conda_fn, conda_data = files["conda"]
    wheel, wheel_data = files["pypi"]
    api = testapp.get("/api/download/alice/notes/1/notes.txt", status=302).headers["Location"]
    # one header policy for every face (anarepo/http/blobs.py)
    safe = {"Content-Security-Policy": SANDBOX_CSP, "X-Content-Type-Options": "nosniff"}
    cases = [
        (f"/conda/alice/noarch/{conda_fn}", conda_data,
         {**safe, "Cache-Control": "public, no-cache", "Content-Type": "application/x-bzip2",
          "Content-Disposition": f'attachment; filename="{conda_fn}"'}),
        (f"/pypi/alice/files/demo/1.0/{wheel}", wheel_data,
         {**safe, "Cache-Control": "public, no-cache", "Content-Type": "application/zip",
          "Content-Disposition": f'attachment; filename="{wheel}"'}),
        ("/alice/notes/1/download/notes.txt", b"plain text\n",
         {**safe, "Cache-Control": "public, no-cache", "Content-Disposition": 'inline; filename="notes.txt"'}),
        (api.split("localhost", 1)[-1], b"plain text\n",
         {**safe, "Cache-Control": "private, no-cache", "Content-Disposition": 'attachment; filename="notes.txt"'}),
    ]
    for url, data, headers in cases:
        response = testapp.get(url, status=200)
        assert response.body == b"", url
        assert blob_bytes(app, response) == data, url
        assert response.headers["ETag"].strip('"') == __import__("hashlib").sha256(data).hexdigest()
        for name, value in headers.items():
            assert response.headers[name] == value, (url, name)
        # the app answers 304 itself; nothing for nginx to send
        again = testapp.get(url, headers={"If-None-Match": response.headers["ETag"]}, status=304)
        assert "X-Accel-Redirect" not in again.headers


def test_refused_downloads_never_name_a_blob(app, testapp, files):
    from anarepo.services.packages import set_access

    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("tool"), "private")
    conda_fn, _ = files["conda"]
    refused = testapp.get(f"/conda/alice/noarch/{conda_fn}", status=404)
    assert "X-Accel-Redirect" not in refused.headers
    token = app.make_token("alice", "read", ["conda:download"])
    allowed = testapp.get(f"/conda/t/{token}/alice/noarch/{conda_fn}", status=200)
    assert "X-Accel-Redirect" in allowed.headers


def test_index_documents_are_sent_by_the_app(testapp, files):
    response = testapp.get("/conda/alice/noarch/repodata.json")
    assert "X-Accel-Redirect" not in response.headers and files["conda"][0] in response.json["packages"]


@pytest.fixture
def documents(app, tmp_path):
    from anarepo.deploy.xaccel import DocumentFiles

    replay = app.wsgi_app.app.app  # TokenPrefixMiddleware → LastResort → ReplayMiddleware
    replay.documents = DocumentFiles(str(tmp_path / "documents"), min_size=0)
    return replay.documents


def test_replayed_index_documents_are_sent_by_nginx_from_a_file(app, testapp, files, documents):
    url = "/conda/alice/noarch/repodata.json"
    first = testapp.get(url)
    again = testapp.get(url)
    target = again.headers["X-Accel-Redirect"]
    assert again.body == b"" and target.startswith("/_anarepo_documents/")
    path = os.path.join(documents.root, target[len("/_anarepo_documents/"):])
    with open(path, "rb") as f:
        assert f.read() == first.body
    assert again.headers["ETag"] == first.headers["ETag"] and again.content_type == first.content_type
    if "Last-Modified" in first.headers:
        from email.utils import parsedate_to_datetime

        assert int(os.path.getmtime(path)) == int(parsedate_to_datetime(first.headers["Last-Modified"]).timestamp())
    assert "X-Accel-Redirect" not in testapp.get(url, headers={"If-None-Match": first.headers["ETag"]},
                                                 status=304).headers
    # a commit ends the replay: the next answer comes from the application, with the new file
    fn, data = build_package("tool", "2.0")
    publish_conda(app, "alice", fn, data)
    fresh = testapp.get(url)
    assert "X-Accel-Redirect" not in fresh.headers and fn in fresh.json["packages"]
    newer = testapp.get(url).headers["X-Accel-Redirect"]
    assert newer != target
    with open(os.path.join(documents.root, newer[len("/_anarepo_documents/"):]), "rb") as f:
        assert fn.encode() in f.read()


def test_documents_of_a_dead_process_are_removed(tmp_path):
    import socket

    from anarepo.deploy.xaccel import DocumentFiles

    dead = tmp_path / "documents" / f"{socket.gethostname()}-999999999-abcd"
    dead.mkdir(parents=True)
    (dead / "x").write_bytes(b"old")
    DocumentFiles(str(tmp_path / "documents"))
    assert not dead.exists()
