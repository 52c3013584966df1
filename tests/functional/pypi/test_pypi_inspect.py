"""Inspection of wheels and sdists: strict, bounded, with messages a person can act on."""
from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from anarepo.package_types.pypi import PypiType, builders
from anarepo.package_types.pypi.inspect import MAX_METADATA_SIZE, normalize
from anarepo.plugins import InvalidPackage


def write(tmp_path, filename, data):
    path = tmp_path / filename
    path.write_bytes(data)
    return path


def inspect(tmp_path, filename, data):
    return PypiType().inspect(write(tmp_path, filename, data), filename)


def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("name,expected", [
    ("Foo.Bar", "foo-bar"), ("foo__bar", "foo-bar"), ("FOO-_.bar", "foo-bar"), ("a", "a"),
])
def test_normalize(name, expected):
    assert normalize(name) == expected


def test_wheel(tmp_path):
    fn, data = builders.wheel("Foo.Bar", "1.0.post1", requires_python=">=3.9",
                              requires_dist=["requests>=2", "pytest; extra == 'test'"])
    info = inspect(tmp_path, fn, data)
    assert (info.name, info.version, info.basename) == ("Foo.Bar", "1.0.post1", fn)
    assert info.attrs["packagetype"] == "bdist_wheel"
    assert info.attrs["python_version"] == "py3"
    assert info.attrs["requires_python"] == ">=3.9"
    assert info.attrs["project"] == "foo-bar"
    assert info.platform == "any"
    assert info.summary == "A test package" and info.license == "MIT"
    assert info.dependencies["depends"] == [{"name": "requests", "specs": [[">=", "2"]]}]
    assert info.dependencies["extras"][0]["name"] == "test"


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_sdist(tmp_path, fmt):
    fn, data = builders.sdist("foo-bar", "2.0", requires_python=">=3.8", fmt=fmt)
    info = inspect(tmp_path, fn, data)
    assert (info.name, info.version) == ("foo-bar", "2.0")
    assert info.attrs["packagetype"] == "sdist" and info.attrs["python_version"] == "source"
    assert info.attrs["requires_python"] == ">=3.8"


def test_detect(tmp_path):
    ptype = PypiType()
    fn, data = builders.sdist("foo", "1.0")
    assert ptype.detect(fn, write(tmp_path, fn, data))
    assert not ptype.detect("other-1.0.tar.gz", write(tmp_path, "other-1.0.tar.gz", tar_of({"x/DESCRIPTION": b"x"})))
    assert not ptype.detect("foo-1.0.tar.bz2", write(tmp_path, "foo-1.0.tar.bz2", b"x"))
    wfn, wdata = builders.wheel("foo", "1.0")
    assert ptype.detect(wfn, write(tmp_path, wfn, wdata))


META = b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n"
GOOD_WHEEL = {"foo-1.0.dist-info/METADATA": META, "foo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\n",
              "foo-1.0.dist-info/RECORD": b""}


@pytest.mark.parametrize("filename,data,message", [
    ("foo-1.0-py3-none-any.whl", b"not a zip", "not a valid zip archive"),
    ("foo-1.0-py3-none-any.whl", zip_of({"foo/__init__.py": b""}), "exactly one top-level .dist-info"),
    ("foo-1.0-py3-none-any.whl", zip_of({**GOOD_WHEEL, "bar-1.0.dist-info/METADATA": META}),
     "exactly one top-level .dist-info"),
    ("foo-1.0-py3-none-any.whl", zip_of({k: v for k, v in GOOD_WHEEL.items() if not k.endswith("RECORD")}),
     "RECORD is missing"),
    ("foo-1.0-py3-none-any.whl", zip_of({**GOOD_WHEEL, "foo-1.0.dist-info/WHEEL": b"nothing"}),
     "has no Wheel-Version"),
    ("foo-1.0-py3-none-any.whl", zip_of({**GOOD_WHEEL, "foo-1.0.dist-info/METADATA": b"Name: foo\n"}),
     "no Metadata-Version"),
    ("foo-1.0-py3-none-any.whl", zip_of({**GOOD_WHEEL, "foo-1.0.dist-info/METADATA":
                                          b"Metadata-Version: 2.1\nName: foo\n"}), "no Name or no Version"),
    ("foo-2.0-py3-none-any.whl", zip_of(GOOD_WHEEL), "the file name says version 2.0"),
    ("bar-1.0-py3-none-any.whl", zip_of(GOOD_WHEEL), "the file name says project 'bar'"),
    ("foo-1.0-py3-none-any.whl", zip_of({**GOOD_WHEEL, "foo-1.0.dist-info/METADATA":
                                          META + b"Requires-Python: >=>3\n"}), "invalid Requires-Python"),
    ("foo-1.0-py3-none-any.whl", zip_of({**GOOD_WHEEL, "foo-1.0.dist-info/METADATA":
                                          META + b"Requires-Dist: ???\n"}), "invalid Requires-Dist"),
    ("foo-1.0-py3-none-any.whl", zip_of({**GOOD_WHEEL, "foo-1.0.dist-info/METADATA": META + b"\xff\xfe"}),
     "not UTF-8"),
    ("foo-1.0-py3-none.whl", zip_of(GOOD_WHEEL), "invalid wheel file name"),
    ("foo-bar.whl", zip_of(GOOD_WHEEL), "invalid wheel file name"),
    ("foo-1.0.tar.gz", b"\x1f\x8b\x08\x00garbage", "not a valid .tar.gz"),
    ("foo-1.0.tar.gz", tar_of({"foo-1.0/setup.py": b""}), "no <name>-<version>/PKG-INFO"),
    ("foo-1.0.tar.gz", tar_of({"foo-1.0/sub/PKG-INFO": META}), "no <name>-<version>/PKG-INFO"),
    ("foo-1.0.zip", zip_of({"foo-1.0/PKG-INFO": b"Metadata-Version: 2.1\nName: foo\nVersion: one\n"}),
     "not a valid PEP 440 version"),
    ("foo-1.0.zip", b"PK\x05\x06" + b"\x00" * 18, "no <name>-<version>/PKG-INFO"),
    ("foo-1.0.egg", zip_of(GOOD_WHEEL), "not a wheel (.whl) or an sdist"),
    ("foo-1.0.tar.bz2", b"", "not a wheel (.whl) or an sdist"),
])
def test_refused(tmp_path, filename, data, message):
    with pytest.raises(InvalidPackage) as err:
        inspect(tmp_path, filename, data)
    assert message in str(err.value)
    assert filename in str(err.value) or "not a wheel" not in message


def test_metadata_bomb_is_bounded(tmp_path):
    huge = META + b"Description: " + b"x" * (MAX_METADATA_SIZE + 10)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**GOOD_WHEEL, "foo-1.0.dist-info/METADATA": huge}.items():
            zf.writestr(name, data)
    assert len(buf.getvalue()) < 100_000  # compresses to almost nothing
    with pytest.raises(InvalidPackage, match="larger than"):
        inspect(tmp_path, "foo-1.0-py3-none-any.whl", buf.getvalue())


def test_check_placement():
    ptype = PypiType()
    from anarepo.plugins import FileInfo

    info = FileInfo(name="Foo.Bar", version="1.0", basename="Foo_Bar-1.0-py3-none-any.whl")
    ptype.check_placement(info, "foo_bar", "1.0", info.basename)
    ptype.check_placement(info, "FOO-bar", "1.0", info.basename)
    with pytest.raises(InvalidPackage, match="does not match the package"):
        ptype.check_placement(info, "foobar", "1.0", info.basename)
    with pytest.raises(InvalidPackage, match="does not match the release"):
        ptype.check_placement(info, "foo-bar", "1.1", info.basename)
    with pytest.raises(InvalidPackage, match="does not match its metadata"):
        ptype.check_placement(info, "foo-bar", "1.0", "other.whl")
