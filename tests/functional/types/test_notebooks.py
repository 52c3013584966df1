"""Notebooks: validated on upload, rendered once, shown without running their scripts."""
import pytest

from anarepo.plugins import InvalidPackage
from tests.builders import notebook, notebook_with_script


def test_notebook_is_rendered_and_served_in_a_sandbox(app, testapp):
    app.make_user("alice")
    name, version, basename = app.upload("alice", "analysis.ipynb", notebook(title="Sales report"))
    assert name == "analysis" and basename == "analysis.ipynb"
    page = testapp.get("/alice/analysis")
    assert "Sales report" in page.text  # summary from the first markdown heading
    frame = page.html.find("iframe")
    assert frame["sandbox"] == ["allow-popups"]  # no allow-scripts, no allow-same-origin
    rendered = testapp.get(frame["src"])
    assert "42" in rendered.text and "print" in rendered.text
    csp = rendered.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox") and "script-src 'none'" in csp and "allow-same-origin" not in csp
    raw = testapp.get(f"/alice/analysis/{version}/download/analysis.ipynb")
    assert raw.body == notebook(title="Sales report")
    assert raw.headers["Content-Disposition"].startswith("attachment")


def test_script_in_an_output_cannot_run_on_the_site_origin(app, testapp):
    app.make_user("alice")
    _, version, _ = app.upload("alice", "evil.ipynb", notebook_with_script())
    page = testapp.get("/alice/evil")
    assert "<script>document.title" not in page.text  # never inlined into the site's page
    rendered = testapp.get(page.html.find("iframe")["src"])
    assert "document.cookie" in rendered.text  # it is in the sandboxed document only...
    assert "script-src 'none'" in rendered.headers["Content-Security-Policy"]  # ...where scripts are off
    assert rendered.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("data,message", [
    (b"{not json", "not a valid notebook"),
    (b'{"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid notebook"),
    (b"\xff\xfe", "not a valid notebook"),
])
def test_invalid_notebooks_are_refused_and_leave_nothing(app, data, message):
    app.make_user("alice")
    with pytest.raises(InvalidPackage, match=message):
        app.upload("alice", "bad.ipynb", data)
    with app.root() as root:
        assert len(root.owners["alice"].packages) == 0


def test_private_notebook_rendering_is_private(app, testapp):
    app.make_user("alice")
    _, version, _ = app.upload("alice", "secret.ipynb", notebook(), access="private")
    testapp.get(f"/alice/secret/{version}/notebook/secret.ipynb", status=404)
    testapp.get(f"/alice/secret/{version}/download/secret.ipynb", status=404)
