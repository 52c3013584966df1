"""Content types of served files are those PyPI and anaconda.org send: a gzipped
sdist is ``application/gzip`` (issue 15: it was ``application/x-tar``)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from anarepo.package_types.pypi import builders


def test_pypi_files_have_pypi_content_types(app, testapp):
    app.make_user("alice")
    for fmt, expected in (("tar.gz", "application/gzip"), ("zip", "application/zip")):
        fn, data = builders.sdist("typed", "1.0" if fmt == "zip" else "1.1", fmt=fmt)
        app.upload("alice", fn, data)
        served = testapp.get(f"/pypi/alice/files/typed/{'1.0' if fmt == 'zip' else '1.1'}/{fn}")
        assert served.content_type == expected and "Content-Encoding" not in served.headers
    fn, data = builders.wheel("typed", "1.0")
    app.upload("alice", fn, data)
    assert testapp.get(f"/pypi/alice/files/typed/1.0/{fn}").content_type == "application/zip"


@pytest.mark.parametrize("basename,expected", [
    ("data.tar.gz", "application/gzip"), ("data.tgz", "application/gzip"),
    ("data.tar.bz2", "application/x-bzip2"), ("data.tar.xz", "application/x-xz"),
    ("data.zip", "application/zip"), ("data.csv", "text/csv"), ("data.bin", "application/octet-stream"),
])
def test_file_downloads_name_the_compression(app, testapp, basename, expected):
    app.make_user("alice")
    app.publish_file("alice", "data", "1", basename, b"bytes")
    token = app.make_token("alice")
    redirect = testapp.get(f"/api/download/alice/data/1/{basename}", headers={"Authorization": f"token {token}"},
                           status=302)
    parts = urlsplit(redirect.location)
    assert testapp.get(parts.path + "?" + parts.query).content_type == expected
    assert testapp.get(f"/alice/data/1/download/{basename}").content_type == expected
