"""Conda environment files: strict validation, page with instructions, raw file."""
import pytest

from anarepo.plugins import InvalidPackage
from tests.builders import ENVIRONMENT


def test_environment_upload_page_and_raw_file(app, testapp):
    app.make_user("alice")
    name, version, basename = app.upload("alice", "environment.yml", ENVIRONMENT)
    assert name == "analysis"
    page = testapp.get("/alice/analysis")
    assert "conda env create alice/analysis" in page.text
    assert "requests==2.32.3" in page.text
    raw = testapp.get(f"/alice/analysis/{version}/download/environment.yml")
    assert raw.body == ENVIRONMENT and raw.content_type == "text/plain"
    with app.root() as root:
        dist = root.owners["alice"].packages["analysis"].releases[version].files["environment.yml"]
        assert dist.type == "env"
        assert dist.attrs["dependencies"] == ["python=3.11", "numpy>=1.26", "pip"]
        assert dist.attrs["pip"] == ["requests==2.32.3"]


@pytest.mark.parametrize("text,message", [
    (b"name: x\ndependencies: [a, b\n", "malformed YAML"),
    (b"name: x\n", "dependencies"),
    (b"- just\n- a list\n", "mapping"),
    (b"name: x\ndependencies:\n  - {conda: [x]}\n", "strings or a 'pip:' list"),
    (b"a: &a [x, x]\nb: &b [*a, *a]\nname: x\ndependencies: *b\n", "aliases"),
    (b"name: x\ndependencies:\n  - !!python/object:os.system {}\n", "malformed YAML"),
])
def test_malformed_environments_are_refused(app, text, message):
    app.make_user("alice")
    with pytest.raises(InvalidPackage, match=message):
        app.upload("alice", "env.yml", text, type_name="env")
    with app.root() as root:
        assert len(root.owners["alice"].packages) == 0


def test_environment_files_as_conda_lock_and_conda_accept_them(app):
    """conda warns about and ignores keys it does not know (conda-lock's
    ``platforms``, ``category``), and takes ``variables`` of any scalar."""
    app.make_user("alice")
    text = (b"name: lockable\nchannels: [conda-forge, nodefaults]\nplatforms: [linux-64, osx-arm64]\n"
            b"category: main\nvariables:\n  OMP_NUM_THREADS: 4\n  DEBUG: true\n"
            b"dependencies:\n  - conda-forge::python=3.12\n  - pip\n  - pip:\n    - -r requirements.txt\n")
    name, _, _ = app.upload("alice", "environment.yml", text, type_name="env")
    with app.root() as root:
        dist = next(root.owners["alice"].packages[name].distributions())
        assert dist.attrs["dependencies"] == ["conda-forge::python=3.12", "pip"]


def test_oversize_environment_is_refused(app):
    app.make_user("alice")
    huge = b"name: x\ndependencies:\n" + b"  - numpy\n" * 120_000  # > 1 MiB
    with pytest.raises(InvalidPackage, match="the limit is"):
        app.upload("alice", "env.yml", huge, type_name="env")
    with app.root() as root:
        assert len(root.owners["alice"].packages) == 0
