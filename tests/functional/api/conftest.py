"""Fixtures for the /api tests: users with tokens, and the package builders."""
import base64
import hashlib

import pytest


class Api:
    """WebTest calls with a token header, plus the three-step upload."""

    def __init__(self, testapp, token=None):
        self.testapp = testapp
        self.token = token

    def headers(self, extra=None):
        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path, **kw):
        return self.testapp.get("/api" + path, headers=self.headers(kw.pop("headers", None)), **kw)

    def delete(self, path, body=None, **kw):
        if body is not None:
            return self.testapp.delete_json("/api" + path, body, headers=self.headers(), **kw)
        return self.testapp.delete("/api" + path, headers=self.headers(), **kw)

    def post(self, path, body=None, **kw):
        if body is None:
            return self.testapp.post("/api" + path, headers=self.headers(), **kw)
        return self.testapp.post_json("/api" + path, body, headers=self.headers(), **kw)

    def put(self, path, body=None, **kw):
        return self.testapp.put_json("/api" + path, body or {}, headers=self.headers(), **kw)

    def patch(self, path, body, **kw):
        return self.testapp.patch_json("/api" + path, body, headers=self.headers(), **kw)

    def stage(self, owner, package, version, basename, data, dtype="file", channels=(), status=200, **body):
        payload = {"distribution_type": dtype, "description": None, "attrs": {}, "dependencies": None,
                   "channels": list(channels), "sha256": hashlib.sha256(data).hexdigest(), **body}
        return self.post(f"/stage/{owner}/{package}/{version}/{basename}", payload, status=status)

    def s3(self, staged, data, basename="f", md5=None, length=None, status=201):
        """The form POST exactly as anaconda-client sends it (no credentials)."""
        url = staged["post_url"].split("://", 1)[1].split("/", 1)[1]
        fields = list(staged["form_data"].items())
        fields.append(("Content-Length", str(len(data) if length is None else length)))
        digest = md5 if md5 is not None else base64.b64encode(hashlib.md5(data).digest()).decode()
        fields.append(("Content-MD5", digest))
        return self.testapp.post("/" + url, fields, upload_files=[("file", basename, data)], status=status)

    def commit(self, owner, package, version, basename, dist_id, status=200):
        return self.post(f"/commit/{owner}/{package}/{version}/{basename}", {"dist_id": dist_id}, status=status)

    def upload(self, owner, package, version, basename, data, dtype="file", channels=(), status=200):
        staged = self.stage(owner, package, version, basename, data, dtype, channels).json
        self.s3(staged, data, basename)
        return self.commit(owner, package, version, basename, staged["dist_id"], status=status)


@pytest.fixture
def alice(app, testapp):
    app.make_user("alice")
    return Api(testapp, app.make_token("alice", "cli"))


@pytest.fixture
def bob(app, testapp):
    app.make_user("bob")
    return Api(testapp, app.make_token("bob", "cli"))


@pytest.fixture
def anon(testapp):
    return Api(testapp)
