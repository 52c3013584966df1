"""Conda package inspection is strict: real archives are read, bad ones refused clearly,
and a refused file changes nothing in the channel."""
from __future__ import annotations

import io
import json
import tarfile
import time

import pytest

from anarepo.plugins import InvalidPackage
from tests.conda_builders import build_package, index_json, publish_conda, user_with_conda_package


@pytest.fixture
def ptype(app):
    return app.registry.package_types["conda"]


def inspect(ptype, tmp_path, fn, data):
    path = tmp_path / "upload.part"
    path.write_bytes(data)
    return ptype.inspect(str(path), fn)


@pytest.mark.parametrize("fmt", [".tar.bz2", ".conda"])
def test_reads_index_about_run_exports_and_paths(ptype, tmp_path, fmt):
    fn, data = build_package(
        "tool", "1.2.3", "py_0", fmt=fmt, depends=["python >=3.8"], run_exports={"weak": ["tool >=1.2"]},
        index_extra={"constrains": ["other <2"], "track_features": ["feat1", "feat2"], "license_family": "BSD"},
        about={"summary": "A tool", "home": "https://tool.example", "license": "MIT", "dev_url": "https://git.example"},
        payload={"etc/conda/activate.d/tool.sh": b"export TOOL=1\n", "share/tool/x": b"x"},
    )
    info = inspect(ptype, tmp_path, fn, data)
    assert (info.name, info.version, info.basename, info.platform) == ("tool", "1.2.3", f"noarch/{fn}", "noarch")
    assert info.summary == "A tool" and info.home == "https://tool.example" and info.license == "MIT"
    assert info.attrs["depends"] == ["python >=3.8"] and info.attrs["constrains"] == ["other <2"]
    assert info.attrs["track_features"] == "feat1 feat2" and info.attrs["noarch"] == "generic"
    assert info.attrs["run_exports"] == {"weak": ["tool >=1.2"]}
    assert info.attrs["channeldata"]["activate.d"] is True and info.attrs["channeldata"]["post_link"] is False
    assert info.package_attrs["dev_url"] == "https://git.example"
    assert ptype.detect(fn, str(tmp_path / "upload.part"))


def test_seconds_timestamps_are_kept_as_conda_index_and_rattler_index_keep_them(ptype, tmp_path):
    fn, data = build_package("old", "1.0", index_extra={"timestamp": 1_500_000_000})
    assert inspect(ptype, tmp_path, fn, data).attrs["timestamp"] == 1_500_000_000
    future = int(time.time()) + 86_400  # still checked against the clock, in seconds
    fn, data = build_package("soon", "1.0", index_extra={"timestamp": future})
    with pytest.raises(InvalidPackage, match="in the future"):
        inspect(ptype, tmp_path, fn, data)


def test_purls_extra_depends_and_flags_reach_the_records(app, testapp):
    """rattler-index and conda-index keep them (issue 15: they were dropped)."""
    app.make_user("alice")
    extra = {"purls": ["pkg:pypi/requests@2.32.3"], "extra_depends": {"socks": ["pysocks >=1.5.6,!=1.5.7"]},
             "flags": ["cuda", "blas:mkl"]}
    fn, data = build_package("requests", "2.32.3", "pyhd8ed1ab_0", fmt=".conda",
                             index_extra={"noarch": "python", **extra})
    publish_conda(app, "alice", fn, data)
    rec = testapp.get("/conda/alice/noarch/repodata.json").json["packages.conda"][fn]
    assert {k: rec[k] for k in extra} == extra


@pytest.mark.parametrize("field,value", [
    ("purls", "pkg:pypi/x"), ("purls", [1]), ("purls", ["not a purl"]),
    ("extra_depends", ["x"]), ("extra_depends", {"g": "x"}), ("extra_depends", {"": ["x"]}),
    ("extra_depends", {"g\n": ["x"]}),  # "$" of a pattern matches before a final newline
    ("flags", "cuda"), ("flags", ["a\nb"]),
])
def test_malformed_purls_extra_depends_and_flags_are_refused(ptype, tmp_path, field, value):
    fn, data = build_package("bad", "1.0", index_extra={field: value})
    with pytest.raises(InvalidPackage, match=field):
        inspect(ptype, tmp_path, fn, data)


def broken_tar(fn_index: dict | None = None, raw_index: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        data = raw_index if raw_index is not None else json.dumps(fn_index).encode()
        info = tarfile.TarInfo("info/index.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


BAD = [
    ("corrupt bz2", "x-1-0.tar.bz2", b"BZh91AY&SY" + b"\x00" * 200, "not a valid conda package"),
    ("not a zip", "x-1-0.conda", b"PK\x03\x04garbage", "not a valid"),
    ("truncated", "tool-1.0-0.tar.bz2", build_package("tool", "1.0")[1][:100], "not a valid conda package"),
    ("no index", "x-1-0.tar.bz2", None, "no info/index.json"),
    ("bad json", "x-1-0.tar.bz2", broken_tar(raw_index=b"{nope"), "not valid JSON"),
    ("wrong name", "other-1.0-0.tar.bz2", build_package("tool", "1.0")[1], "does not match its metadata"),
    ("wrong version", "tool-1.1-0.conda", build_package("tool", "1.0", fmt=".conda")[1], "does not match"),
    ("unknown subdir", "x-1-0.tar.bz2", broken_tar(index_json("x", "1", subdir="linux-999")), "unknown subdir"),
    ("noarch elsewhere", "x-1-0.tar.bz2",
     broken_tar({**index_json("x", "1", subdir="linux-64"), "noarch": "python"}), "must have subdir 'noarch'"),
    ("future", "x-1-0.tar.bz2",
     broken_tar(index_json("x", "1", timestamp=int(time.time() * 1000) + 86_400_000)), "in the future"),
    ("depends not a list", "x-1-0.tar.bz2", broken_tar({**index_json("x", "1"), "depends": "python"}), "depends"),
    ("bad build number", "x-1-0.tar.bz2", broken_tar(index_json("x", "1", build_number="3")), "build_number"),
    ("bad name", "X Y-1-0.tar.bz2", broken_tar(index_json("X Y", "1")), "invalid package name"),
    ("oversized index", "x-1-0.tar.bz2",
     broken_tar(index_json("x", "1", license="L" * 300_000)), "too large"),
    ("oversized about", "tool-1.0-0.tar.bz2",
     build_package("tool", "1.0", info_files={"info/about.json": b'{"summary": "' + b"s" * 2_000_000 + b'"}'})[1],
     "too large"),
    ("wrong extension", "x-1-0.zip", b"PK\x03\x04", "end in .tar.bz2 or .conda"),
]


@pytest.mark.parametrize("case,fn,data,message", BAD, ids=[b[0] for b in BAD])
def test_bad_packages_are_refused_clearly(ptype, tmp_path, case, fn, data, message):
    if data is None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
            info = tarfile.TarInfo("info/about.json")
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
        data = buf.getvalue()
    with pytest.raises(InvalidPackage, match=message):
        inspect(ptype, tmp_path, fn, data)


def test_subdir_in_the_upload_name_must_match(ptype, tmp_path):
    fn, data = build_package("lib", "1.0", subdir="linux-64")
    assert inspect(ptype, tmp_path, f"linux-64/{fn}", data).basename == f"linux-64/{fn}"
    with pytest.raises(InvalidPackage, match="is a linux-64 package, not osx-64"):
        inspect(ptype, tmp_path, f"osx-64/{fn}", data)


def test_a_renamed_conda_archive_is_refused(ptype, tmp_path):
    _, data = build_package("tool", "1.0", fmt=".conda")
    with pytest.raises(InvalidPackage, match="does not match the archive's components"):
        inspect(ptype, tmp_path, "tool-1.0-1.conda", data)


def test_a_refused_upload_changes_nothing(app, testapp, ptype):
    user_with_conda_package(app)
    before = testapp.get("/conda/alice/noarch/repodata.json")
    with pytest.raises(InvalidPackage):
        publish_conda(app, "alice", "tool-2.0-0.tar.bz2", build_package("tool", "1.0")[1])
    with pytest.raises(InvalidPackage):
        publish_conda(app, "alice", "x-1-0.tar.bz2", broken_tar(index_json("x", "1", subdir="linux-999")))
    after = testapp.get("/conda/alice/noarch/repodata.json")
    assert after.body == before.body and after.headers["ETag"] == before.headers["ETag"]
    with app.root() as root:
        assert sorted(root.owners["alice"].packages) == ["tool"]
        assert list(root.owners["alice"].packages["tool"].releases) == ["1.0"]


def test_invalid_package_is_a_400_on_the_conda_face(app, testapp):
    """The error view maps InvalidPackage to a 400 text answer on every face."""
    from anarepo.views.errors import bad_input

    class Req:
        path_info = "/conda/x"
        registry = app.registry  # the registered faces decide the format

    response = bad_input(InvalidPackage("x-1-0.tar.bz2: unknown subdir 'linux-999'"), Req())
    assert response.status_int == 400 and b"unknown subdir" in response.body


def test_run_exports_in_the_old_list_form_are_weak(ptype, tmp_path):
    """conda-build 3.0 wrote run_exports.json as a plain list; conda-index reads it as weak."""
    fn, data = build_package("oldexp", "1.0", run_exports=["oldexp >=1.0,<2"])
    assert inspect(ptype, tmp_path, fn, data).attrs["run_exports"] == {"weak": ["oldexp >=1.0,<2"]}
