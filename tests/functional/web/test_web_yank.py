"""Package → Files → Actions → Yank / Unyank for PyPI files, without JavaScript."""
from __future__ import annotations

import webtest

from anarepo.package_types.pypi import builders
from anarepo.testing import csrf_from, web_login
from tests.conda_builders import build_package, publish_conda

JSON = "application/vnd.pypi.simple.v1+json"


def simple_files(app):
    client = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    page = client.get("/pypi/alice/simple/demo/", headers={"Accept": JSON}).json
    return {f["filename"]: f.get("yanked", False) for f in page["files"]}


def test_yank_with_a_reason_then_unyank(app, testapp):
    app.make_user("alice")
    wheel, data = builders.wheel("demo", "1.0")
    app.upload("alice", wheel, data)
    sdist, data = builders.sdist("demo", "1.0")
    app.upload("alice", sdist, data)
    web_login(testapp, "alice")
    page = testapp.get("/alice/demo/files")
    assert 'value="yank"' in page.text and 'name="reason"' in page.text
    token = csrf_from(page)
    done = testapp.post("/alice/demo/files", {"csrf_token": token, "action": "yank", "file": f"1.0/{wheel}",
                                              "reason": "broken <build>"}, status=302)
    assert simple_files(app) == {wheel: "broken <build>", sdist: False}
    listing = done.follow()
    assert f"Yanked {wheel}." in listing.text and "broken &lt;build&gt;" in listing.text
    testapp.post("/alice/demo/files", {"csrf_token": token, "action": "unyank", "file": f"1.0/{wheel}"}, status=302)
    assert simple_files(app) == {wheel: False, sdist: False}


def test_refusals_change_nothing(app, testapp):
    app.make_user("alice")
    app.make_user("eve")
    wheel, data = builders.wheel("demo", "1.0")
    app.upload("alice", wheel, data)
    conda_fn, conda_data = build_package("demo", "1.0")
    publish_conda(app, "alice", conda_fn, conda_data)
    web_login(testapp, "alice")
    token = csrf_from(testapp.get("/alice/demo/files"))
    nothing = testapp.post("/alice/demo/files", {"csrf_token": token, "action": "yank"}, status=400)
    assert "Select at least one file" in nothing.text
    mixed = testapp.post("/alice/demo/files", {"csrf_token": token, "action": "yank",
                                               "file": [f"1.0/{wheel}", f"1.0/noarch/{conda_fn}"]}, status=400)
    assert "not a PyPI file" in mixed.text
    testapp.post("/alice/demo/files", {"csrf_token": token, "action": "yank", "file": f"1.0/{wheel}",
                                       "reason": "x" * 1001}, status=400)
    testapp.post("/alice/demo/files", {"action": "yank", "file": f"1.0/{wheel}"}, status=400)  # no CSRF token
    eve = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    web_login(eve, "eve")
    eve_token = csrf_from(eve.get("/alice/demo/files"))
    assert 'value="yank"' not in eve.get("/alice/demo/files").text
    eve.post("/alice/demo/files", {"csrf_token": eve_token, "action": "yank", "file": f"1.0/{wheel}"}, status=403)
    assert simple_files(app) == {wheel: False}
