"""A small HTTP client for the ``/api`` face, with the errors anaconda-client reports."""
from __future__ import annotations

import base64
import hashlib
import os
import uuid

import requests

CHUNK = 1 << 20


class ClientError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Api:
    def __init__(self, url: str, token: str | None = None, verify=True):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = verify
        self.session.headers.update({"Accept": "application/json", "User-Agent": "anarepo-client"})
        if token:
            self.session.headers["Authorization"] = f"token {token}"

    def call(self, method: str, path: str, ok=(200,), json=None, **kw):
        try:
            response = self.session.request(method, self.url + path, json=json, timeout=600, **kw)
        except requests.RequestException as exc:
            raise ClientError(f"can not reach {self.url}: {exc}") from None
        if response.status_code not in ok:
            try:
                message = response.json().get("error")
            except ValueError:
                message = None
            raise ClientError(message or f"{method} {path} answered {response.status_code}", response.status_code)
        return response

    def get_json(self, path: str, missing_ok: bool = False):
        ok = (200, 404) if missing_ok else (200,)
        response = self.call("GET", path, ok=ok)
        return None if response.status_code == 404 else response.json()

    def check_server(self) -> None:
        self.call("HEAD", "", ok=(200,), allow_redirects=False)


def file_digests(path) -> tuple[str, str, int]:
    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return base64.b64encode(md5.digest()).decode(), sha256.hexdigest(), size


class MultipartBody:
    """A streamed ``multipart/form-data`` body: fields, then the file, read in chunks."""

    def __init__(self, fields: dict, path, filename: str, progress=None):
        self.boundary = uuid.uuid4().hex
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        head += f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'.encode()
        self.head, self.tail = head, f"\r\n--{self.boundary}--\r\n".encode()
        self.path, self.size = path, os.path.getsize(path)
        self.progress = progress

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self):
        yield self.head
        with open(self.path, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                if self.progress is not None:
                    self.progress.update(len(chunk))
                yield chunk
        yield self.tail
