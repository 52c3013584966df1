"""Real notebooks (from the nbformat, nbconvert and nbclient sdists) through every path.

Valid means what Jupyter opens: ``nbformat.reads(..., as_version=4)`` then
``nbformat.validate``.  Every valid notebook is uploaded through the web Upload
form (alice) and ``anarepo upload`` (bob; anaconda-client 1.16 refuses notebooks
itself), rendered, and downloaded back with ``anaconda download``; the notebooks nbformat itself
calls invalid (its test suite ships some) are refused with a 400 and leave
nothing behind.
"""
from __future__ import annotations

import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from anarepo.testing import served_app
from tests.clients.anaconda_cli import AnacondaCli

from .paths import owned, web_client, web_refusals, web_upload

pytestmark = [pytest.mark.corpora, pytest.mark.clients, pytest.mark.slow]
BIN = Path(sys.executable).parent


def is_valid(data: bytes) -> bool:
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def corpus(notebook_corpus, tmp_path_factory):
    directory = tmp_path_factory.mktemp("notebooks")
    valid, invalid = [], []
    for name, data in notebook_corpus:
        path = directory / name
        path.write_bytes(data)
        (valid if is_valid(data) else invalid).append(path)
    return valid, invalid


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("nb-corpus"), ["alice", "bob"]) as served:
        yield served


def test_the_corpus_has_thirty_real_notebooks_of_several_versions(corpus):
    import json

    valid, invalid = corpus
    assert len(valid) >= 30 and invalid
    versions = {json.loads(p.read_bytes())["nbformat"] for p in valid}
    assert {3, 4} <= versions
    assert any(" " in p.name for p in valid)  # Jupyter users name notebooks with spaces
    assert any('"source": [' in p.read_text() for p in valid)  # lists of lines, as Jupyter saves


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def web(server):
    return web_client(server[0], "alice")


def test_web_upload_takes_every_valid_notebook_and_renders_it(server, web, corpus):
    harness, _ = server
    valid, _ = corpus
    assert web_refusals(web, valid, "alice") == []
    assert owned(harness, "alice") == {p.name: _sha(p) for p in valid}
    with harness.root() as root:
        packages = list(root.owners["alice"].packages.values())
    for package in packages:
        page = web.get(f"/alice/{package.name}")
        frame = page.html.find("iframe")
        assert frame is not None, package.name
        rendered = web.get(frame["src"])
        assert "could not be rendered" not in rendered.text, package.name


def test_web_upload_refuses_what_nbformat_calls_invalid(server, web, corpus):
    harness, _ = server
    _, invalid = corpus
    before = owned(harness, "alice")
    for path in invalid:
        answer = web_upload(web, path, "alice")
        assert answer.status_int == 400 and "not a valid notebook" in answer.text, path.name
    assert owned(harness, "alice") == before


def _login_home(live, tmp_path, login):
    from anarepo.testing import DEFAULT_PASSWORD
    from tests.clients.test_anarepo_client import client_env

    env = client_env(tmp_path)
    for args in (("config", "--set", "url", f"{live.url}/api"),
                 ("login", "--username", login, "--password", DEFAULT_PASSWORD)):
        result = subprocess.run([str(BIN / "anaconda"), *args], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    return env


def test_anarepo_upload_takes_every_valid_notebook(server, corpus, tmp_path):
    harness, live = server
    valid, _ = corpus
    env = _login_home(live, tmp_path, "bob")
    result = subprocess.run([str(BIN / "anarepo"), "upload", "--no-progress", *map(str, valid)], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert owned(harness, "bob") == {p.name: _sha(p) for p in valid}


def test_anaconda_download_fetches_every_notebook_back(server, corpus, tmp_path):
    """anaconda-client 1.16 no longer uploads notebooks ("features have been removed",
    refused before it sends anything: ``anarepo upload`` is the CLI for them), but
    ``anaconda download`` fetches them."""
    harness, live = server
    valid, _ = corpus
    cli = AnacondaCli(tmp_path / "home", f"{live.url}/api")
    token = harness.make_token("bob", "cli")
    refused = cli("-t", token, "upload", "--user", "bob", valid[0], ok=False)
    assert "removed" in refused.output
    with harness.root() as root:
        names = sorted(root.owners["bob"].packages)
    assert names, "test_anarepo_upload_takes_every_valid_notebook uploads them first"
    by_name = {p.name: p for p in valid}

    def download(name):
        out = tmp_path / "downloads" / name
        out.mkdir(parents=True)
        cli("-t", token, "download", f"bob/{name}", "--output", out, timeout=300)
        return [p for p in out.rglob("*") if p.is_file()]

    with ThreadPoolExecutor(4) as pool:
        fetched = [p for files in pool.map(download, names) for p in files]
    assert sorted(p.name for p in fetched) == sorted(by_name)
    for path in fetched:
        assert path.read_bytes() == by_name[path.name].read_bytes(), path.name
