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


def test_notebook_as_jupyter_saves_it_with_lists_of_lines(app, testapp):
    """nbformat.write stores every multi-line text as a list of lines (issue 15)."""
    import nbformat

    app.make_user("alice")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Quarterly figures\nWith words."),
                nbformat.v4.new_code_cell("x = 6\nprint(x * 7)",
                                          outputs=[nbformat.v4.new_output("stream", text="42\n")])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    data = nbformat.writes(nb).encode()
    assert '"source": [' in data.decode()  # the shape Jupyter writes
    name, version, _ = app.upload("alice", "figures.ipynb", data)
    page = testapp.get(f"/alice/{name}")
    assert "Quarterly figures" in page.text
    assert "42" in testapp.get(page.html.find("iframe")["src"]).text


def test_nbformat_3_notebook_is_accepted_with_its_title(app, testapp):
    import nbformat

    app.make_user("alice")
    nb = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[
        nbformat.v3.new_text_cell("markdown", source="# Old times\ntext"),
        nbformat.v3.new_code_cell(input="print(1)")])])
    data = nbformat.v3.writes_json(nb).encode()
    name, _, _ = app.upload("alice", "old.ipynb", data)
    assert "Old times" in testapp.get(f"/alice/{name}").text


def test_notebook_without_kernelspec_or_cells(app):
    app.make_user("alice")
    data = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 2}'
    assert app.upload("alice", "empty.ipynb", data)[0] == "empty"


def test_notebook_file_names_with_spaces_name_the_package_as_anaconda_client_does(app, testapp):
    """Jupyter users name notebooks "Check History in Memory.ipynb" (issue 15 corpus)."""
    app.make_user("alice")
    name, _, basename = app.upload("alice", "Check History in Memory.ipynb", notebook())
    assert (name, basename) == ("check-history-in-memory", "Check History in Memory.ipynb")
    testapp.get("/alice/check-history-in-memory")
    assert app.upload("alice", "Keep_Case.ipynb", notebook())[0] == "Keep_Case"
