"""One answer per upload: the browser form, the API (``anaconda upload``) and the
PyPI upload endpoint (twine, ``uv publish``) give the same status, with the same
meaning, for the same upload by the same identity (docs/security.md, "One answer
per upload").  A success is each face's own success (302 to the package page,
200 with the file's JSON, 200 ``OK``); every refusal is the same number.
"""
from __future__ import annotations

import base64
import hashlib
import html

import pytest
import webtest

from anarepo.services.orgs import add_group_member, add_group_package, create_group
from anarepo.package_types.pypi import builders as pypi_builders
from anarepo.testing import csrf_from, web_login

OK = "ok"
SUCCESS = {"web": 302, "api": 200, "pypi": 200}

#: (scenario, who, owner, project, label, expected) — ``who`` is a user (session on
#: the web, a full token elsewhere), ``anon``, or ``token:<name>`` (the same token on every face);
#: the one deliberate difference: PyPI answers an identical re-upload as Warehouse does
CASES = [
    ("no credentials", "anon", "acme", "fresh", None, 401),
    ("expired token", "token:expired", "acme", "fresh", None, 401),
    ("new package where one may create", "bob", "acme", "fresh", None, OK),
    ("new version of a package one may write", "bob", "acme", "shared", None, OK),
    ("package one may only read", "carol", "acme", "shared", None, 403),
    ("package one may not see", "bob", "acme", "hidden", None, 403),
    ("new package where one may not create", "carol", "acme", "fresh", None, 403),
    ("token without a scope for the face", "token:api-read", "acme", "fresh", None, 403),
    ("unknown owner", "bob", "nobody", "fresh", None, 404),
    ("locked label", "alice", "acme", "shared", "frozen", 403),
    ("same file name, different content", "alice", "acme", "shared", None, 409),
    ("same file again", "alice", "acme", "shared", None, {"web": 409, "api": 409, "pypi": 200}),
    ("file that is not the named project", "alice", "acme", "mismatch", None, 400),
]


@pytest.fixture
def site(app):
    from datetime import timedelta

    from anarepo.clock import utcnow

    for login in ("alice", "bob", "carol"):
        app.make_user(login)
    app.make_org("acme", "alice")
    app.upload("acme", *pypi_builders.wheel("shared", "1.0"))
    app.upload("acme", *pypi_builders.wheel("hidden", "1.0"), access="private")
    with app.root() as root:
        acme = root.owners["acme"]
        writers, readers = create_group(acme, "writers", "write"), create_group(acme, "readers", "read")
        add_group_member(root, acme, writers, "bob")
        add_group_member(root, acme, readers, "carol")
        for group in (writers, readers):
            add_group_package(app.registry, acme, group, "shared")
        acme.ensure_label("frozen").locked = True
    tokens = {login: app.make_token(login, "cli") for login in ("alice", "bob", "carol")}
    tokens["api-read"] = app.make_token("alice", "read-only", ["api:read"])
    tokens["expired"] = app.make_token("alice", "old")
    with app.root() as root:
        next(t for t in root.tokens.values() if t.name == "old").expires = utcnow() - timedelta(seconds=1)
    return tokens


def the_file(scenario, project, n):
    if project == "fresh":  # a new package per face (each face creates one)
        project = f"fresh-{n}"
    version = "1.0" if scenario.startswith("same file") else f"2.{n}"  # 1.0: the stored one
    if project == "mismatch":  # named one project, is another
        return (*pypi_builders.wheel("shared", version), "mismatch", version)
    padding = 64 if scenario.startswith("same file name") else 0  # other bytes under the stored name
    filename, data = pypi_builders.wheel(project, version, padding=padding)
    return filename, data, project, version


def web(app, tokens, who, owner, filename, data, name, label):
    browser = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    prefix, form = "", {}
    if who.startswith("token:"):
        prefix = f"/t/{tokens[who[6:]]}"
    else:
        if who != "anon":
            web_login(browser, who)
        form["csrf_token"] = csrf_from(browser.get("/account/login"))
    form.update({"owner": owner, "type": "", "name": name if name == "mismatch" else "", "version": "",
                 "label": label or "main", "access": "public"})
    return browser.post(f"{prefix}/upload", {**form, "file": webtest.Upload(filename, data)}, expect_errors=True)


def api(testapp, tokens, who, owner, filename, data, name, version, label):
    token = tokens.get(who[6:] if who.startswith("token:") else who)
    headers = {"Authorization": f"token {token}"} if token else {}
    staged = testapp.post_json(f"/api/stage/{owner}/{name}/{version}/{filename}",
                               {"distribution_type": "pypi", "sha256": hashlib.sha256(data).hexdigest(),
                                "channels": [label] if label else []}, headers=headers, expect_errors=True)
    if staged.status_int != 200:
        return staged
    url = staged.json["post_url"].split("://", 1)[1].split("/", 1)[1]
    testapp.post("/" + url, list(staged.json["form_data"].items()), upload_files=[("file", filename, data)],
                 status=201)
    return testapp.post_json(f"/api/commit/{owner}/{name}/{version}/{filename}", {"dist_id": staged.json["dist_id"]},
                             headers=headers, expect_errors=True)


def pypi(testapp, tokens, who, owner, filename, data, name, version, label):
    token = tokens.get(who[6:] if who.startswith("token:") else who)
    headers = {}
    if token:
        headers["Authorization"] = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
    fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name), ("version", version),
              ("filetype", "bdist_wheel"), ("sha256_digest", hashlib.sha256(data).hexdigest())]
    path = f"/pypi/{owner}/" + (f"label/{label}/" if label else "")
    return testapp.post(path, params=fields, upload_files=[("content", filename, data)], headers=headers,
                        expect_errors=True)


def message_of(face, response) -> str:
    """What the face tells its client: the JSON error, the text body, the page's text."""
    if face == "api":
        return response.json.get("error", "") if response.status_int >= 400 else ""
    if face == "pypi":
        return response.text.strip()
    return html.unescape(response.text)


@pytest.mark.parametrize("scenario, who, owner, project, label, want", CASES, ids=[c[0] for c in CASES])
def test_web_api_and_pypi_answer_alike(app, testapp, site, scenario, who, owner, project, label, want):
    answers, messages = {}, {}
    for n, face in enumerate(("web", "api", "pypi")):
        filename, data, name, version = the_file(scenario, project, n)
        if face == "web":
            response = web(app, site, who, owner, filename, data, name, label)
        else:
            response = (api if face == "api" else pypi)(testapp, site, who, owner, filename, data, name, version,
                                                          label)
        answers[face] = response.status_int
        messages[face] = message_of(face, response).replace(repr(name), "NAME")
    expected = dict(SUCCESS) if want == OK else want if isinstance(want, dict) else dict.fromkeys(SUCCESS, want)
    assert answers == expected
    if want in (401, 403, 404):  # a refusal is decided in one place (views/errors.py): one message everywhere
        assert messages["api"] and messages["pypi"] == messages["api"], messages
        if scenario != "token without a scope for the face":  # the web face refuses that token the form itself
            assert messages["api"] in messages["web"], messages
    with app.root() as root:  # a refusal leaves nothing; a success leaves one file per face
        acme = root.owners["acme"]
        files = sorted(d.basename for p in acme.packages.values() for d in p.distributions())
        published = [f for f in files if not f.endswith("-1.0-py3-none-any.whl")]
        assert len(published) == (3 if want == OK else 0), files
