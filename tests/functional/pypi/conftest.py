"""Fixtures for the PyPI face tests: users, tokens and the legacy upload call."""
from __future__ import annotations

import base64
import hashlib

import pytest

from anarepo.package_types.pypi import builders

JSON = "application/vnd.pypi.simple.v1+json"


def basic(token: str, user: str = "__token__") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def upload_fields(filename: str, data: bytes, name: str, version: str, **extra) -> dict:
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "filetype": "bdist_wheel" if filename.endswith(".whl") else "sdist",
        "pyversion": "py3" if filename.endswith(".whl") else "source",
        "metadata_version": "2.1",
        "md5_digest": hashlib.md5(data).hexdigest(),
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


class Uploader:
    def __init__(self, testapp):
        self.testapp = testapp

    def __call__(self, url, filename, data, token=None, name=None, version=None, status=200, headers=None,
                 **extra):
        parsed_name, parsed_version = name, version
        if parsed_name is None or parsed_version is None:
            stem = filename[:-4] if filename.endswith(".whl") else filename.rsplit(".tar.gz", 1)[0].rsplit(".zip", 1)[0]
            parts = stem.split("-")
            parsed_name = parsed_name or parts[0]
            parsed_version = parsed_version or parts[1]
        all_headers = dict(basic(token) if token else {})
        all_headers.update(headers or {})
        return self.testapp.post(
            url, upload_fields(filename, data, parsed_name, parsed_version, **extra),
            upload_files=[("content", filename, data)], headers=all_headers, status=status,
        )


@pytest.fixture
def upload(testapp):
    return Uploader(testapp)


@pytest.fixture
def alice(app):
    """User alice with an upload token and a read-only token."""
    app.make_user("alice")
    return {
        "upload": app.make_token("alice", "upload", ["pypi:upload"]),
        "read": app.make_token("alice", "read", ["pypi:download"]),
    }


@pytest.fixture
def wheel():
    return builders.wheel


@pytest.fixture
def sdist():
    return builders.sdist
