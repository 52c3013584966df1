"""A corpus of malformed input across every upload path and API body.

Each case is a request (or the last request of a valid sequence) that must be
refused: a 4xx with the face's error body (JSON ``{"error": ...}`` on /api, S3
XML on the upload form POST, text for conda and PyPI tools, a page for people),
and no state change: listings, conda and PyPI indexes, counts, the files of
every distribution, the blob temporary directory, and no orphan blob after a
pack.  One application serves the whole module (cases never change it).
"""
from __future__ import annotations

import base64
import gzip
import http.client
import hashlib
import io
import json
import os
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import webtest

from anarepo import main
from anarepo.package_types.pypi import builders as pypi
from anarepo.storage import blob_tmpdir
from anarepo.testing import AppHarness, LiveServer, make_settings
from tests.builders import tar_gz, zip_bytes
from tests.conda_builders import build_package, index_json
from tests.functional.api.conftest import Api
from tests.functional.pypi.conftest import upload_fields

pytestmark = pytest.mark.slow  # about 300 cases, each with two full snapshots: a minute or two

NOW_MS = int(time.time() * 1000)
DEEP = 100_000  # nesting levels no parser should recurse into
MIDDLE = 200  # parses, but deeper than anything legitimate


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def deep_yaml(levels: int) -> str:
    return "[" * levels + "]" * levels


@dataclass
class Case:
    id: str
    face: str  # api | s3 | pypi | conda | web
    run: Callable  # (ctx) -> response of the refused request
    prepare: Callable | None = None  # (ctx) -> value given to run; its requests may succeed


class Ctx:
    def __init__(self, harness, testapp, alice, bob):
        self.app, self.testapp, self.alice, self.bob = harness, testapp, alice, bob
        self.prepared = None


# -- the module's application, with some of everything already there ----------------
@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    harness = AppHarness(main({}, **make_settings(tmp_path_factory.mktemp("corpus"))))
    harness.make_user("alice")
    harness.make_user("bob")
    testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    alice = Api(testapp, harness.make_token("alice", "cli"))
    bob = Api(testapp, harness.make_token("bob", "cli"))
    fn, data = build_package("seed", "1.0", subdir="noarch")
    alice.upload("alice", "seed", "1.0", f"noarch/{fn}", data, dtype="conda")
    fn, data = build_package("seed", "1.0", subdir="linux-64")
    alice.upload("alice", "seed", "1.0", f"linux-64/{fn}", data, dtype="conda")
    fn, data = pypi.wheel("seedwheel", "1.0")
    harness.upload("alice", fn, data)
    alice.upload("alice", "data", "1", "data.bin", b"some data")
    ctx = Ctx(harness, testapp, alice, bob)
    ctx.live = LiveServer(harness.wsgi_app).start()
    yield ctx
    ctx.live.stop()
    harness.close()


def snapshot(ctx) -> dict:
    app, testapp = ctx.app, ctx.testapp
    app.db.pack(time.time() + 1)
    with app.root() as root:
        dists = {o.login: sorted((p.name, d.version, d.basename, d.sha256, d.size, d.blob.committed())
                                 for p in o.packages.values() for d in p.distributions())
                 for o in root.owners.values()}
        counts = (len(root.owners), len(root.tokens), {o.login: len(o.packages) for o in root.owners.values()},
                  {o.login: sorted(o.labels.keys()) for o in root.owners.values()})
        stage_blobs = {s.blob.committed() for s in root.staging.stages.values() if s.blob is not None}
    blobs = {str(p) for p in Path(app.db.storage.fshelper.base_dir).rglob("*.blob")}
    referenced = {d[-1] for files in dists.values() for d in files}
    assert blobs <= referenced | stage_blobs, f"orphan blob files: {blobs - referenced - stage_blobs}"
    assert os.listdir(blob_tmpdir(app.db)) == [], "leftover temporary files"
    get = testapp.get
    return {
        "dists": dists,
        "counts": counts,
        "api": [get(f"/api/packages/{o}", headers=ctx.alice.headers()).json for o in ("alice", "bob")],
        "repodata": [get(f"/conda/alice/{s}/repodata.json").body for s in ("noarch", "linux-64")],
        "channeldata": get("/conda/alice/channeldata.json").body,
        "simple": get("/pypi/alice/simple/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}).body,
        "project": get("/pypi/alice/simple/seedwheel/").body,
    }


def assert_face_error(face: str, response) -> None:
    assert 400 <= response.status_int < 500, (response.status, response.text[:300])
    if face == "api":
        assert response.content_type == "application/json", response.content_type
        assert isinstance(response.json.get("error"), str) and response.json["error"]
    elif face == "s3":
        assert response.content_type == "application/xml" and b"<Error><Code>" in response.body
    elif face in ("pypi", "conda"):
        assert response.content_type == "text/plain" and response.text.strip()
    else:
        assert response.content_type == "text/html" and "<html" in response.text.lower()


# -- builders of hostile files ---------------------------------------------------------
_VERSIONS = iter(range(1, 10_000))


def next_version() -> str:
    """Every case its own version: a case that wrongly succeeds cannot mask the next ones."""
    return f"1.{next(_VERSIONS)}"


def conda_with(index: dict | None = None, *, raw_index: bytes | None = None, about: bytes | None = None,
               extra: dict | None = None, name="evil", version=None, subdir="noarch", fmt=".tar.bz2"):
    version = version or next_version()
    base = index_json(name, version, subdir=subdir)
    if index is not None:
        base.update(index)
    info = dict(extra or {})
    if raw_index is not None:
        info["info/index.json"] = raw_index
    if about is not None:
        info["info/about.json"] = about
    fn, data = build_package(name, version, subdir=subdir, index=base, info_files=info, fmt=fmt)
    return f"{subdir}/{fn}", data


def tar_bz2(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for path, target in (symlinks or {}).items():
            info = tarfile.TarInfo(path)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


def wheel_with(metadata: str | None = None, name="evilwheel", version="1.0", drop=(), extra=None):
    fn, data = pypi.wheel(name, version, metadata=metadata)
    if not drop and not extra:
        return fn, data
    src = zipfile.ZipFile(io.BytesIO(data))
    members = {n: src.read(n) for n in src.namelist() if not any(n.endswith(d) for d in drop)}
    members.update(extra or {})
    return fn, zip_bytes(members)


# -- the three upload steps of the API --------------------------------------------------
def staged(ctx, basename, data, dtype="conda", package="evil", version="1.0"):
    return ctx.alice.stage("alice", package, version, basename, data, dtype=dtype).json


def commit_case(id, basename, data, dtype="conda", package="evil", version=None):
    """Stage and send a hostile file (both succeed), then the commit must refuse it."""
    version = version or _version_of(basename)

    def prepare(ctx):
        s = staged(ctx, basename, data, dtype, package, version)
        ctx.alice.s3(s, data, basename.rsplit("/", 1)[-1])
        return s

    def run(ctx):
        return ctx.alice.commit("alice", package, version, basename, ctx.prepared["dist_id"], status="*")

    return Case(f"commit-{id}", "api", run, prepare)


def _version_of(basename: str) -> str:
    parts = basename.rsplit("/", 1)[-1].split("-")
    return parts[-2] if len(parts) >= 3 else next_version()


CASES: list[Case] = []

# 1. conda archives refused at commit ---------------------------------------------------
INDEX_FIELDS = {
    "timestamp-nan": {"timestamp": float("nan")},
    "timestamp-inf": {"timestamp": float("inf")},
    "timestamp-neg-inf": {"timestamp": float("-inf")},
    "timestamp-negative": {"timestamp": -5},
    "timestamp-string": {"timestamp": "yesterday"},
    "timestamp-future": {"timestamp": NOW_MS + 10 * 365 * 86400_000},
    "timestamp-huge": {"timestamp": 2**70},
    "timestamp-bool": {"timestamp": True},
    "timestamp-list": {"timestamp": [1]},
    "name-newline": {"name": "evil\n"},
    "name-upper": {"name": "Evil"},
    "name-empty": {"name": ""},
    "name-int": {"name": 5},
    "name-space": {"name": "ev il"},
    "name-unicode": {"name": "évil"},
    "name-long": {"name": "e" * 300},
    "version-newline": {"version": "1.0\n"},
    "version-empty": {"version": ""},
    "version-space": {"version": "1 0"},
    "version-float": {"version": 1.0},
    "version-slash": {"version": "1/0"},
    "build-newline": {"build": "0\n"},
    "build-space": {"build": "py 0"},
    "build-none": {"build": None},
    "build-number-negative": {"build_number": -1},
    "build-number-huge": {"build_number": 2**40},
    "build-number-string": {"build_number": "1"},
    "build-number-bool": {"build_number": True},
    "build-number-float": {"build_number": 1.5},
    "subdir-unknown": {"subdir": "plan9-64"},
    "subdir-newline": {"subdir": "noarch\n"},
    "subdir-int": {"subdir": 64},
    "depends-not-list": {"depends": "python"},
    "depends-int-item": {"depends": [1]},
    "depends-newline-item": {"depends": ["python\n>=3"]},
    "depends-empty-item": {"depends": [""]},
    "depends-dict": {"depends": {"python": ">=3"}},
    "depends-too-many": {"depends": [f"p{i}" for i in range(20_000)]},
    "depends-long-item": {"depends": ["p" * 5000]},
    "constrains-not-list": {"constrains": 3},
    "noarch-unknown": {"noarch": "java"},
    "noarch-python-on-linux": {"noarch": "python", "subdir": "linux-64"},
    "license-control-chars": {"license": "MIT\x00"},
    "license-not-string": {"license": ["MIT"]},
    "track-features-bad": {"track_features": [1, 2]},
    "features-control": {"features": "a\x07b"},
}
for _id, _fields in INDEX_FIELDS.items():
    _basename, _data = conda_with(_fields)
    CASES.append(commit_case(f"index-{_id}", _basename, _data))

for _id, _raw in {
    "deep-json": deep_json(DEEP).encode(),
    "deep-json-field": ('{"name": "evil", "version": "1.0", "build": "0", "subdir": "noarch", "x": '
                        + deep_json(MIDDLE) + "}").encode(),
    "nan-literal": b'{"name": "evil", "version": "1.0", "build": "0", "subdir": "noarch", "timestamp": NaN}',
    "infinity-literal": b'{"name": "evil", "version": "1.0", "build": "0", "subdir": "noarch", "timestamp": Infinity}',
    "float-overflow": b'{"name": "evil", "version": "1.0", "build": "0", "subdir": "noarch", "timestamp": 1e999}',
    "not-object": b"[]",
    "null": b"null",
    "invalid-json": b"{name: evil}",
    "empty": b"",
    "invalid-utf8": b'{"name": "\xff\xfe"}',
    "bom-latin1": '{"name": "évil"}'.encode("latin-1"),
    "truncated": b'{"name": "evil", "version": ',
    "duplicate-keys-mixed": b'{"name": "evil", "name": 5, "version": "1.0", "build": "0", "subdir": "noarch"}',
}.items():
    _basename, _data = conda_with(raw_index=_raw)
    CASES.append(commit_case(f"raw-index-{_id}", _basename, _data))

for _id, _raw in {
    "deep-json": deep_json(DEEP).encode(),
    "deep-json-middle": ('{"summary": ' + deep_json(MIDDLE) + "}").encode(),
    "nan": b'{"summary": NaN}',
}.items():
    _basename, _data = conda_with(about=_raw)
    CASES.append(commit_case(f"about-{_id}", _basename, _data))

_basename, _data = conda_with(extra={"info/run_exports.json": deep_json(DEEP).encode()})
CASES.append(commit_case("run-exports-deep", _basename, _data))
_basename, _data = conda_with(extra={"info/paths.json": deep_json(DEEP).encode()})
CASES.append(commit_case("paths-deep", _basename, _data))

for _id, _data in {
    "random-bytes": os.urandom(4096),
    "empty-file": b"",
    "truncated-bz2": build_package("evil", "1.0")[1][:200],
    "zip-as-tar": zip_bytes({"info/index.json": b"{}"}),
    "no-index": tar_bz2({"info/about.json": b"{}"}),
    "index-is-dir-traversal": tar_bz2({"../info/index.json": json.dumps(index_json("evil", "1.0")).encode()}),
    "index-symlink": tar_bz2({}, {"info/index.json": "/etc/passwd"}),
    "gzip-not-bz2": gzip.compress(b"x" * 1000),
}.items():
    CASES.append(commit_case(f"archive-{_id}", f"noarch/evil-{next_version()}-0.tar.bz2", _data))
for _id, _data in {
    "random-bytes": os.urandom(4096),
    "zip-without-info": zip_bytes({"metadata.json": b'{"conda_pkg_format_version": 2}'}),
    "zip-bad-metadata": zip_bytes({"metadata.json": deep_json(DEEP).encode()}),
}.items():
    CASES.append(commit_case(f"dotconda-{_id}", f"noarch/evil-{next_version()}-0.conda", _data))

_good_name, _good = conda_with(version="9.1")
CASES.append(commit_case("placement-other-name", "noarch/other-9.1-0.tar.bz2", _good, package="other"))
CASES.append(commit_case("placement-other-version", _good_name.replace("9.1", "9.2"), _good, version="9.2"))
CASES.append(commit_case("placement-wrong-subdir", _good_name.replace("noarch/", "linux-64/"), _good))

# 2. other types refused at commit -----------------------------------------------------
for _id, _text in {
    "deep-flow": f"name: x\ndependencies: {deep_yaml(DEEP)}\n",
    "deep-middle": f"name: x\ndependencies: [a]\nvariables: {{a: {deep_yaml(MIDDLE)}}}\n",
    "name-newline": 'name: "x\\n"\ndependencies: [a]\n',
    "spec-newline": 'name: x\ndependencies: ["numpy\\n"]\n',
    "alias-bomb": "a: &a [x, x, x, x]\nb: &b [*a, *a, *a]\nname: x\ndependencies: *b\n",
    "python-tag": "name: x\ndependencies:\n  - !!python/object/apply:os.system [id]\n",
    "not-utf8": "name: \xe9\ndependencies: [a]\n",
    "nan": "name: x\ndependencies: [a]\nvariables: {a: .nan}\n",
    "binary": "\x00\x01\x02",
}.items():
    _data = _text.encode("latin-1") if _id == "not-utf8" else _text.encode()
    CASES.append(commit_case(f"env-{_id}", "environment.yml", _data, dtype="env", package="evilenv", version="1"))

for _id, _data in {
    "deep": deep_json(DEEP).encode(),
    "deep-middle": ('{"cells": [], "metadata": ' + deep_json(MIDDLE) + ', "nbformat": 4, "nbformat_minor": 5}').encode(),
    "nan": b'{"cells": [], "metadata": {"x": NaN}, "nbformat": 4, "nbformat_minor": 5}',
    "not-json": b"print('hi')",
    "not-notebook": b'{"hello": "world"}',
}.items():
    CASES.append(commit_case(f"ipynb-{_id}", "evil.ipynb", _data, dtype="ipynb", package="evilnb", version="1"))

for _id, _data in {
    "deep-yaml": tar_gz({"p/anaconda-project.yml": f"name: p\nx: {deep_yaml(DEEP)}\n".encode(), "p/a.py": b"1"}),
    "random": os.urandom(2000),
    "empty-tar": tar_gz({}),
}.items():
    CASES.append(commit_case(f"project-{_id}", "p.tar.gz", _data, dtype="project", package="evilproj", version="1"))

# 3. stage bodies and paths ----------------------------------------------------------------
SHA = hashlib.sha256(b"x").hexdigest()


def stage_body(id, body, path="alice/evil/1.0/noarch/evil-1.0-0.tar.bz2", raw=None, content_type=None):
    def run(ctx):
        headers = ctx.alice.headers({"Content-Type": content_type} if content_type else None)
        if raw is not None:
            return ctx.testapp.post(f"/api/stage/{path}", raw, headers=headers, status="*")
        return ctx.testapp.post_json(f"/api/stage/{path}", body, headers=headers, status="*")

    return Case(f"stage-{id}", "api", run)


GOOD_STAGE = {"distribution_type": "conda", "sha256": SHA, "channels": ["main"]}
for _id, _patch in {
    "sha256-short": {"sha256": "abc"},
    "sha256-newline": {"sha256": SHA + "\n"},
    "sha256-unicode": {"sha256": "é" * 64},
    "sha256-int": {"sha256": 5},
    "sha256-missing": {"sha256": None},
    "type-unknown": {"distribution_type": "npm"},
    "type-int": {"distribution_type": 3},
    "type-missing": {"distribution_type": None},
    "channels-string": {"channels": "main"},
    "channels-int-item": {"channels": [1]},
    "channels-newline": {"channels": ["dev\n"]},
    "channels-reserved": {"channels": ["nolabel"]},
    "channels-slash": {"channels": ["a/b"]},
    "channels-unicode": {"channels": ["dév"]},
    "attrs-list": {"attrs": [1]},
    "attrs-huge": {"attrs": {"x": "y" * 300_000}},
    "attrs-deep": {"attrs": json.loads(deep_json(60))},
    "description-int": {"description": 5},
    "description-huge": {"description": "d" * ((8 << 20) + 1)},  # over names.MAX_DESCRIPTION (PyPI-sized ones pass)
    "description-control": {"description": "a\x00b"},
}.items():
    CASES.append(stage_body(_id, {**GOOD_STAGE, **_patch}))
for _id, _raw in {
    "not-json": b"not json",
    "array": b"[1, 2]",
    "string": b'"text"',
    "deep": deep_json(DEEP).encode(),
    "deep-object": ('{"a": ' * 5000 + "1" + "}" * 5000).encode(),
    "deep-middle": ('{"distribution_type": "conda", "attrs": ' + deep_json(MIDDLE) + "}").encode(),
    "nan": b'{"distribution_type": "conda", "sha256": NaN}',
    "infinity": b'{"distribution_type": "conda", "x": -Infinity}',
    "float-overflow": b'{"distribution_type": "conda", "x": 1e400}',
    "invalid-utf8": b'{"distribution_type": "\xff"}',
    "empty": b"",
    "whitespace": b"   \n",
    "truncated": b'{"distribution_type": "co',
}.items():
    CASES.append(stage_body(f"raw-{_id}", None, raw=_raw, content_type="application/json"))
for _id, _path in {
    "version-newline": "alice/evil/1.0%0A/noarch/evil-1.0-0.tar.bz2",
    "package-newline": "alice/evil%0A/1.0/noarch/evil-1.0-0.tar.bz2",
    "package-unicode": "alice/%C3%A9vil/1.0/noarch/evil-1.0-0.tar.bz2",
    "basename-dotdot": "alice/evil/1.0/noarch/../x.tar.bz2",
    "basename-backslash": "alice/evil/1.0/noarch%5Cx.tar.bz2",
    "basename-nul": "alice/evil/1.0/noarch/x%00.tar.bz2",
    "basename-newline": "alice/evil/1.0/noarch/x%0A.tar.bz2",
    "basename-long": "alice/evil/1.0/noarch/" + "x" * 300 + ".tar.bz2",
    "basename-deep": "alice/evil/1.0/a/b/c.tar.bz2",
    "owner-unknown": "nobody/evil/1.0/noarch/evil-1.0-0.tar.bz2",
    "owner-other": "bob/evil/1.0/noarch/evil-1.0-0.tar.bz2",
    "version-dotdot": "alice/evil/1..0/noarch/evil-1.0-0.tar.bz2",
    "version-reserved": "alice/evil/files/noarch/evil-1.0-0.tar.bz2",
    "existing-file": "alice/data/1/data.bin",
}.items():
    CASES.append(stage_body(f"path-{_id}", {**GOOD_STAGE, "distribution_type": "file"} if "data" in _path
                            else GOOD_STAGE, path=_path))

# 4. the upload form POST (S3 style) ---------------------------------------------------------
PAYLOAD = b"payload bytes"


def s3_case(id, fields=None, data=PAYLOAD, raw=None, content_type=None, key=None, file_field="file"):
    def prepare(ctx):
        return ctx.alice.stage("alice", "s3evil", "1", "f.bin", PAYLOAD, dtype="file").json

    def run(ctx):
        s = ctx.prepared
        url = "/api/s3upload/" + (key if key is not None else s["dist_id"])
        if raw is not None:
            return ctx.testapp.post(url, raw, headers={"Content-Type": content_type or "multipart/form-data"},
                                    status="*")
        form = [("key", s["dist_id"])] + list((fields or {}).items())
        return ctx.testapp.post(url, form, upload_files=[(file_field, "f.bin", data)], status="*")

    return Case(f"s3-{id}", "s3", run, prepare)


_MD5 = base64.b64encode(hashlib.md5(PAYLOAD).digest()).decode()
for _id, _kw in {
    "content-length-superscript": {"fields": {"Content-Length": "²"}},
    "content-length-arabic": {"fields": {"Content-Length": "١٣"}},
    "content-length-text": {"fields": {"Content-Length": "thirteen"}},
    "content-length-negative": {"fields": {"Content-Length": "-13"}},
    "content-length-huge": {"fields": {"Content-Length": "9" * 30}},
    "content-length-wrong": {"fields": {"Content-Length": "12"}},
    "content-md5-not-base64": {"fields": {"Content-MD5": "***"}},
    "content-md5-unicode": {"fields": {"Content-MD5": "é"}},
    "content-md5-wrong": {"fields": {"Content-MD5": base64.b64encode(b"0" * 16).decode()}},
    "other-bytes": {"data": b"other bytes!!"},
    "empty-file": {"data": b""},
    "no-file-part": {"file_field": "notfile"},
    "unknown-key": {"key": "A" * 43},
    "short-key": {"key": "abc"},
    "key-field-mismatch": {"fields": {"key": "B" * 43}},
    "not-multipart": {"raw": b"file=abc", "content_type": "application/x-www-form-urlencoded"},
    "no-boundary": {"raw": b"--x\r\n", "content_type": "multipart/form-data"},
    "truncated-multipart": {"raw": b'--xx\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nabc',
                            "content_type": "multipart/form-data; boundary=xx"},
    "garbage-multipart": {"raw": os.urandom(500), "content_type": "multipart/form-data; boundary=xx"},
    "header-non-ascii": {"raw": '--xx\r\nContent-Disposition: form-data; name="fïle"\r\n\r\nabc\r\n--xx--\r\n'
                         .encode(), "content_type": "multipart/form-data; boundary=xx"},
}.items():
    CASES.append(s3_case(_id, **_kw))
del _MD5

# 5. commit bodies -------------------------------------------------------------------------------
def commit_body(id, body=None, raw=None, path="alice/cevil/1/f.bin", who="alice", prepare_upload=True):
    def prepare(ctx):
        s = ctx.alice.stage("alice", "cevil", "1", "f.bin", PAYLOAD, dtype="file").json
        if prepare_upload:
            ctx.alice.s3(s, PAYLOAD, "f.bin")
        return s

    def run(ctx):
        api = ctx.alice if who == "alice" else ctx.bob
        if raw is not None:
            return ctx.testapp.post(f"/api/commit/{path}", raw, headers=api.headers(
                {"Content-Type": "application/json"}), status="*")
        payload = body(ctx.prepared) if callable(body) else body
        return ctx.testapp.post_json(f"/api/commit/{path}", payload, headers=api.headers(), status="*")

    return Case(f"commitbody-{id}", "api", run, prepare)


for _id, _kw in {
    "no-id": {"body": {}},
    "id-int": {"body": {"dist_id": 5}},
    "id-unknown": {"body": {"dist_id": "C" * 43}},
    "id-newline": {"body": lambda s: {"dist_id": s["dist_id"] + "\n"}},
    "id-unicode": {"body": {"dist_id": "é" * 40}},
    "id-list": {"body": {"dist_id": ["x"]}},
    "deep": {"raw": deep_json(DEEP).encode()},
    "nan": {"raw": b'{"dist_id": NaN}'},
    "not-json": {"raw": b"dist_id=x"},
    "other-path": {"body": lambda s: {"dist_id": s["dist_id"]}, "path": "alice/cevil/1/g.bin"},
    "other-version": {"body": lambda s: {"dist_id": s["dist_id"]}, "path": "alice/cevil/2/f.bin"},
    "other-user": {"body": lambda s: {"dist_id": s["dist_id"]}, "path": "bob/cevil/1/f.bin", "who": "bob"},
    "not-uploaded": {"body": lambda s: {"dist_id": s["dist_id"]}, "prepare_upload": False},
}.items():
    CASES.append(commit_body(_id, **_kw))

# 6. the PyPI upload ---------------------------------------------------------------------------------
WHEEL_FN, WHEEL = pypi.wheel("evilwheel", "1.0")


def pypi_case(id, filename=WHEEL_FN, data=WHEEL, name="evilwheel", version="1.0", raw=None, content_type=None,
              token="alice", drop_fields=(), **fields):
    def run(ctx):
        api = ctx.alice if token == "alice" else ctx.bob
        headers = {"Authorization": "Basic " + base64.b64encode(f"__token__:{api.token}".encode()).decode()}
        if token is None:
            headers = {}
        elif token == "wrong":
            headers = {"Authorization": "Basic " + base64.b64encode(b"__token__:wrong-token").decode()}
        if raw is not None:
            headers["Content-Type"] = content_type
            return ctx.testapp.post("/pypi/alice/", raw, headers=headers, status="*")
        form = upload_fields(filename, data, name, version, **fields)
        for key in drop_fields:
            form.pop(key, None)
        return ctx.testapp.post("/pypi/alice/", form, upload_files=[("content", filename, data)], headers=headers,
                                status="*")

    return Case(f"pypi-{id}", "pypi", run)


for _id, _kw in {
    "sha256-unicode": {"sha256_digest": "é" * 64},
    "sha256-wrong": {"sha256_digest": "0" * 64},
    "sha256-newline-inside": {"sha256_digest": "ab\ncd"},
    "md5-wrong": {"md5_digest": "0" * 32, "sha256_digest": None, "blake2_256_digest": None},
    "md5-unicode": {"md5_digest": "é", "sha256_digest": None, "blake2_256_digest": None},
    "blake2-wrong": {"blake2_256_digest": "0" * 64},
    "no-digest": {"drop_fields": ("md5_digest", "sha256_digest", "blake2_256_digest")},
    "action-submit": {":action": "submit"},
    "action-junk": {":action": "rm -rf"},
    "protocol-2": {"protocol_version": "2"},
    "name-missing": {"drop_fields": ("name",)},
    "version-missing": {"drop_fields": ("version",)},
    "name-newline-inside": {"name": "evil\nwheel"},
    "name-mismatch": {"name": "otherwheel"},
    "version-mismatch": {"version": "2.0"},
    "version-newline-inside": {"version": "1.\n0"},
    "filetype-mismatch": {"filetype": "sdist"},
    "filename-slash": {"filename": "a/" + WHEEL_FN},
    "filename-backslash": {"filename": "a\\" + WHEEL_FN},
    "filename-newline": {"filename": WHEEL_FN.replace(".whl", "\n.whl")},
    "filename-unknown-ext": {"filename": "evilwheel-1.0.exe"},
    "no-credentials": {"token": None},
    "wrong-token": {"token": "wrong"},
    "other-users-namespace": {"token": "bob"},
    "random-bytes": {"data": os.urandom(3000)},
    "empty-file": {"data": b""},
    "wheel-no-metadata": dict(zip(("filename", "data"), wheel_with(drop=("METADATA",)))),
    "wheel-metadata-newline-name": dict(zip(("filename", "data"), wheel_with(
        metadata="Metadata-Version: 2.1\nName: evilwheel\n\nVersion: 1.0\n"))),
    "wheel-metadata-binary": dict(zip(("filename", "data"), wheel_with(
        extra={"evilwheel-1.0.dist-info/METADATA": b"\xff\xfe\x00garbage"}))),
    "sdist-random": {"filename": "evilwheel-1.0.tar.gz", "data": os.urandom(2000), "filetype": "sdist"},
    "sdist-no-pkg-info": {"filename": "evilwheel-1.0.tar.gz", "data": tar_gz({"evilwheel-1.0/setup.py": b""}),
                          "filetype": "sdist"},
    "not-multipart": {"raw": b"name=x", "content_type": "application/x-www-form-urlencoded"},
    "garbage-multipart": {"raw": os.urandom(700), "content_type": "multipart/form-data; boundary=zz"},
    "no-boundary": {"raw": b"--zz\r\n", "content_type": "multipart/form-data"},
    "field-non-ascii-name": {"raw": '--zz\r\nContent-Disposition: form-data; name="nämé"\r\n\r\nx\r\n--zz--\r\n'
                             .encode(), "content_type": "multipart/form-data; boundary=zz"},
    "existing-different": {"filename": pypi.wheel("seedwheel", "1.0")[0], "name": "seedwheel",
                           "data": pypi.wheel("seedwheel", "1.0", code="X = 2\n")[1]},
}.items():
    CASES.append(pypi_case(_id, **_kw))

# 7. other API bodies ------------------------------------------------------------------------------
def api_body(id, method, path, raw, who="alice"):
    def run(ctx):
        api = ctx.alice if who == "alice" else ctx.bob
        return getattr(ctx.testapp, method)(path, raw, headers=api.headers({"Content-Type": "application/json"}),
                                            status="*")

    return Case(f"apibody-{id}-{method}-{path.strip('/').replace('/', '.')}", "api", run)


for _path, _method in [("/api/package/alice/newpkg", "post"), ("/api/package/alice/seed", "patch"),
                       ("/api/release/alice/seed/9.9", "post"), ("/api/user", "patch"),
                       ("/api/channels/alice/newlabel", "post")]:
    for _id, _raw in {
        "deep": deep_json(DEEP).encode(),
        "deep-middle": ('{"summary": ' + deep_json(MIDDLE) + "}").encode(),
        "nan": b'{"summary": NaN}',
        "array": b"[]",
        "not-json": b"summary=x",
        "invalid-utf8": b'{"summary": "\xff"}',
    }.items():
        CASES.append(api_body(_id, _method, _path, _raw))
for _id, _body in {
    "access-unknown": {"access": "secret-ish"},
    "summary-int": {"summary": 5},
    "summary-huge": {"summary": "s" * 100_000},
    "summary-dict": {"summary": {"a": 1}},
}.items():
    CASES.append(Case(f"apibody-package-{_id}", "api", lambda ctx, b=_body: ctx.testapp.post_json(
        "/api/package/alice/newpkg", b, headers=ctx.alice.headers(), status="*")))
for _name in ["new%0Apkg", "new%00pkg", "%C3%A9", "a" * 200, "..", "new%0A"]:
    CASES.append(Case(f"apibody-package-name-{_name[:12]}", "api", lambda ctx, n=_name: ctx.testapp.post_json(
        f"/api/package/alice/{n}", {"summary": "x"}, headers=ctx.alice.headers(), status="*")))

# 8. HTTP-level junk on every face ------------------------------------------------------------------
for _id, (_face, _method, _path) in {
    "conda-post": ("conda", "post", "/conda/alice/noarch/repodata.json"),
    "conda-nul": ("conda", "get", "/conda/alice/noarch/x%00.tar.bz2"),
    "conda-unknown-subdir": ("conda", "get", "/conda/alice/plan9-64/repodata.json"),
    "conda-shard-newline": ("conda", "get", "/conda/alice/noarch/shards/" + "a" * 64 + ".msgpack.zst%0A"),
    "conda-label-newline": ("conda", "get", "/conda/alice/label/dev%0A/noarch/repodata.json"),
    "pypi-put": ("pypi", "put", "/pypi/alice/"),
    "pypi-project-nul": ("pypi", "get", "/pypi/alice/simple/x%00/"),
    "pypi-file-traversal": ("pypi", "get", "/pypi/alice/files/../../etc/passwd"),
    "api-nul": ("api", "get", "/api/package/alice/x%00"),
    "api-unknown-route": ("api", "delete", "/api/nothing/here"),
}.items():
    CASES.append(Case(f"http-{_id}", _face, lambda ctx, m=_method, p=_path: getattr(ctx.testapp, m)(
        p, status="*", expect_errors=True)))
for _id, _headers in {
    "authorization-non-ascii": {"Authorization": "token é"},
    "authorization-garbage": {"Authorization": "Basic %%%"},
    "authorization-bearer-empty": {"Authorization": "Bearer "},
}.items():
    CASES.append(Case(f"http-api-{_id}", "api", lambda ctx, h=_headers: ctx.testapp.post_json(
        "/api/stage/alice/evil/1.0/f.bin", GOOD_STAGE, headers=h, status="*")))
    CASES.append(Case(f"http-pypi-{_id}", "pypi", lambda ctx, h=_headers: ctx.testapp.post(
        "/pypi/alice/", upload_fields(WHEEL_FN, WHEEL, "evilwheel", "1.0"), upload_files=[("content", WHEEL_FN, WHEEL)],
        headers=h, status="*")))


class RawResponse:
    """What :func:`assert_face_error` reads, from a raw HTTP exchange."""

    def __init__(self, response):
        self.status_int = response.status
        self.status = f"{response.status} {response.reason}"
        self.content_type = (response.getheader("Content-Type") or "").split(";")[0]
        self.body = response.read()
        self.text = self.body.decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.body)


def raw_http(ctx, method: str, target: str, body: bytes = b"", headers=None) -> RawResponse:
    """Bytes WebTest refuses to send (invalid UTF-8 in the path, odd headers), over a socket."""
    conn = http.client.HTTPConnection("127.0.0.1", ctx.live.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        return RawResponse(conn.getresponse())
    finally:
        conn.close()


for _id, (_face, _method, _path) in {
    "conda-invalid-utf8": ("conda", "GET", "/conda/alice/noarch/%ff.tar.bz2"),
    "conda-invalid-utf8-channel": ("conda", "GET", "/conda/%ff/noarch/repodata.json"),
    "pypi-invalid-utf8": ("pypi", "GET", "/pypi/alice/simple/%ff/"),
    "pypi-upload-invalid-utf8": ("pypi", "POST", "/pypi/%ff/"),
    "api-invalid-utf8": ("api", "GET", "/api/package/alice/%ff"),
    "api-stage-invalid-utf8": ("api", "POST", "/api/stage/alice/evil/1.0/x%ff.tar.bz2"),
    "api-s3-invalid-utf8": ("s3", "POST", "/api/s3upload/%ff%fe"),
    "api-commit-invalid-utf8": ("api", "POST", "/api/commit/alice/evil/1.0/x%ff.tar.bz2"),
}.items():
    CASES.append(Case(f"raw-{_id}", _face, lambda ctx, m=_method, p=_path: raw_http(
        ctx, m, p, b"{}", {"Authorization": f"token {ctx.alice.token}", "Content-Type": "application/json"})))
for _id, (_face, _path, _headers) in {
    "api-authorization-latin1": ("api", "/api/stage/alice/evil/1.0/f.bin", {"Authorization": "token \xe9\xe9"}),
    "pypi-authorization-latin1": ("pypi", "/pypi/alice/", {"Authorization": "Basic \xe9\xe9"}),
    "api-content-type-junk": ("api", "/api/stage/alice/evil/1.0/f.bin", {"Content-Type": "\xe9/\xe9"}),
    "pypi-content-type-junk": ("pypi", "/pypi/alice/", {"Content-Type": "multipart/form-data; boundary=\xe9"}),
}.items():
    CASES.append(Case(f"raw-{_id}", _face, lambda ctx, p=_path, h=_headers: raw_http(ctx, "POST", p, b"x", {
        k: v.encode().decode("unicode_escape") for k, v in h.items()})))


def test_the_corpus_is_large():
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES), "case ids are unique"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_malformed_input_is_refused_and_changes_nothing(ctx, case):
    ctx.prepared = case.prepare(ctx) if case.prepare is not None else None
    before = snapshot(ctx)
    response = case.run(ctx)
    assert_face_error(case.face, response)
    after = snapshot(ctx)
    for key in before:
        assert after[key] == before[key], f"{key} changed"
