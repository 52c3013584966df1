"""One organization with secrets, and the people who look at it (the listing-leak tests).

``acme`` (owner alice) holds public packages and, for the group ``zqhidden``
only (member zqdana), private ones: a conda package on the label ``zqhush`` (no
other file uses it), a wheel and an R package on ``main``.  rita is in the
Read-Only group ``readers``, wade in the Read-Write group ``writers`` (both list
open-tool), olive belongs to nothing.  Every secret name carries one of
:data:`MARKERS`, so a body that contains none of them leaked nothing.
"""
from __future__ import annotations

import webtest

from anarepo.package_types.pypi import builders
from anarepo.testing import web_login
from tests.builders import r_package
from tests.conda_builders import build_package, publish_conda

#: substrings of every secret name: packages, their summaries, the label, the group, its member
MARKERS = ("zqsecret", "zqhush", "zqhidden", "zqdana")
ROLES = ("anonymous", "outsider", "reader", "writer", "admin")
LOGINS = {"outsider": "olive", "reader": "rita", "writer": "wade", "admin": "alice"}


def build(app) -> dict:
    """The world; returns role → API token (None for the anonymous visitor)."""
    from anarepo.services import orgs

    for login in ("alice", "rita", "wade", "olive", "zqdana"):
        app.make_user(login)
    app.make_org("acme", "alice")
    fn, data = build_package("open-tool", "1.0")
    publish_conda(app, "acme", "noarch/" + fn, data)
    app.publish_file("acme", "read-tool", "1", "read.txt", b"r")
    app.upload("acme", *builders.wheel("open-wheel", "1.0"))
    fn, data = build_package("zqsecret-conda", "1.0", about={"summary": "zqsecret summary"})
    publish_conda(app, "acme", "noarch/" + fn, data, labels=["zqhush"], access="private")
    app.upload("acme", *builders.wheel("zqsecret-py", "1.0"), access="private")
    app.upload("acme", "zqsecretr_1.0.tar.gz", r_package("zqsecretr", "1.0"), access="private")
    with app.root() as root:
        org = root.owners["acme"]
        for name, level, member, packages in (("readers", "read", "rita", ["open-tool"]),
                                              ("writers", "write", "wade", ["open-tool"]),
                                              ("zqhidden", "read", "zqdana",
                                               ["zqsecret-conda", "zqsecret-py", "zqsecretr"])):
            group = orgs.create_group(org, name, level)
            orgs.add_group_member(root, org, group, member)
            for package in packages:
                orgs.add_group_package(app.registry, org, group, package)
    tokens = {role: app.make_token(login, "cli") for role, login in LOGINS.items()}
    tokens["anonymous"] = None
    tokens["member"] = app.make_token("zqdana", "cli")
    return tokens


class Visitor:
    """One role on every face: a token header on the API, a path token on the
    conda, PyPI and R faces, a logged-in session on the web."""

    def __init__(self, app, role: str, token: str | None):
        self.role, self.token = role, token
        self.web = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        login = LOGINS.get(role) or ("zqdana" if role == "member" else None)
        if login is not None:
            web_login(self.web, login)
        self.plain = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})

    def get(self, path: str):
        face = path.split("/")[1]
        if face == "api":
            headers = {"Authorization": f"token {self.token}"} if self.token else {}
            return self.plain.get(path, headers=headers, status="*")
        if face in ("conda", "pypi", "r"):
            return self.plain.get(f"/t/{self.token}{path}" if self.token else path, status="*")
        return self.web.get(path, status="*")


def leaked(body: str) -> list[str]:
    text = body.lower()
    return [m for m in MARKERS if m in text]
