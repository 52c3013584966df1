"""The upload paths the corpus tests share: the web Upload form, and what an owner holds."""
from __future__ import annotations

from pathlib import Path

import webtest

from anarepo.testing import web_login


def web_client(harness, login: str) -> webtest.TestApp:
    """A browser-like session of ``login`` on the real app."""
    testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    web_login(testapp, login)
    return testapp


def web_upload(testapp, path: Path, owner: str):
    """One file through the Upload form, type auto-detected, as a person does it."""
    csrf = testapp.get("/upload").html.find("input", {"name": "csrf_token"})["value"]
    return testapp.post("/upload", {"owner": owner, "type": "", "name": "", "version": "", "label": "main",
                                    "access": "public", "csrf_token": csrf},
                        upload_files=[("file", path.name, path.read_bytes())], status="*")


def web_refusals(testapp, files, owner: str) -> list:
    """Upload every file; (name, status) of each the form did not take."""
    return [(p.name, r.status) for p in files if (r := web_upload(testapp, p, owner)).status_int != 302]


def owned(harness, owner: str) -> dict[str, str]:
    """basename → sha256 of every file the owner holds."""
    with harness.root() as root:
        return {d.basename: d.sha256 for p in root.owners[owner].packages.values() for d in p.distributions()}
