"""``anarepo upload | download | env create`` against a real waitress server.

The client reuses anaconda-client's configuration and token files: the tests log
in with the real ``anaconda`` CLI, then upload with ``anarepo``.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from anarepo.testing import DEFAULT_PASSWORD, served_app
from tests.builders import ENVIRONMENT, notebook, r_package

pytestmark = pytest.mark.clients
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("server"), ["alice", "bob"], {"acme": "alice"}) as served:
        yield served


@pytest.fixture(scope="module")
def home(server, tmp_path_factory):
    """A HOME with anaconda-client configured for the server and logged in as alice."""
    _, live = server
    home = tmp_path_factory.mktemp("home")
    env = client_env(home)
    run = lambda *a: subprocess.run([str(BIN / "anaconda"), *a], env=env, capture_output=True, text=True, timeout=120)  # noqa: E731
    assert run("config", "--set", "url", f"{live.url}/api").returncode == 0
    result = run("login", "--username", "alice", "--password", DEFAULT_PASSWORD)
    assert result.returncode == 0, result.stderr
    return home


def client_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINSTAR", "ANACONDA"))}
    env.update(HOME=str(home), BINSTAR_CONFIG_DIR=str(home / "binstar"), ANACONDA_CLIENT_FORCE_STANDALONE="1",
               OTEL_SDK_DISABLED="true", ANACONDA_TELEMETRY_ENABLED="false")
    return env


def anarepo(home, *args, cwd=None):
    return subprocess.run([str(BIN / "anarepo"), *args], env=client_env(home), capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_notebook_upload_after_anaconda_login_and_anaconda_download(server, home, tmp_path):
    harness, live = server
    nb = tmp_path / "report.ipynb"
    nb.write_bytes(notebook(title="Quarterly"))
    result = anarepo(home, "upload", str(nb))
    assert result.returncode == 0, result.stderr
    assert "uploaded report.ipynb (ipynb)" in result.stdout
    page = harness_get(live, "/alice/report")
    assert "Quarterly" in page
    # the real anaconda CLI fetches it back
    out = tmp_path / "down"
    out.mkdir()
    env = client_env(home)
    got = subprocess.run([str(BIN / "anaconda"), "download", "alice/report", "-o", str(out)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert (out / "report.ipynb").read_bytes() == notebook(title="Quarterly")


def test_environment_round_trip_and_env_create(server, home, tmp_path):
    env_file = tmp_path / "environment.yml"
    env_file.write_bytes(ENVIRONMENT)
    assert anarepo(home, "upload", str(env_file), "-u", "acme").returncode == 0
    result = anarepo(home, "env", "create", "acme/analysis", "--file", str(tmp_path / "out.yml"), "-n", "mine")
    assert result.returncode == 0, result.stderr
    written = yaml.safe_load((tmp_path / "out.yml").read_text())
    original = yaml.safe_load(ENVIRONMENT)
    assert written["name"] == "mine"
    assert written["dependencies"] == original["dependencies"] and written["channels"] == original["channels"]
    downloaded = anarepo(home, "download", "acme/analysis", "-o", str(tmp_path / "d"))
    assert downloaded.returncode == 0, downloaded.stderr
    assert (tmp_path / "d" / "environment.yml").read_bytes() == ENVIRONMENT


def test_project_directory_gets_revisions(server, home, tmp_path):
    harness, live = server
    project = tmp_path / "myproject"
    (project / "data").mkdir(parents=True)
    (project / "anaconda-project.yml").write_text("name: myproject\ndescription: Demo\n")
    (project / "app.py").write_text("print('v1')\n")
    first = anarepo(home, "upload", str(project))
    assert first.returncode == 0, first.stderr
    (project / "README.md").write_text("# readme\n")
    second = anarepo(home, "upload", str(project))
    assert second.returncode == 0, second.stderr
    page = harness_get(live, "/alice/myproject")
    assert "revision 2" in page and "README.md" in page
    with harness.root() as root:
        assert sorted(root.owners["alice"].packages["myproject"].releases.keys()) == ["1", "2"]


def test_r_package_csv_file_and_existing_file_modes(server, home, tmp_path):
    harness, live = server
    r = tmp_path / "mypkg_1.2.3.tar.gz"
    r.write_bytes(r_package())
    assert anarepo(home, "upload", str(r)).returncode == 0
    assert "Package: mypkg" in harness_get(live, "/r/alice/src/contrib/PACKAGES")
    csv = tmp_path / "baby-names1.csv"
    csv.write_text("name,count\nEmma,20\n")
    plain = anarepo(home, "upload", "--package-type", "file", "-p", "baby-names", "-v", "1", str(csv))
    assert plain.returncode == 0, plain.stderr
    again = anarepo(home, "upload", "--package-type", "file", "-p", "baby-names", "-v", "1", str(csv))
    assert again.returncode == 1 and "already exists" in again.stderr
    skipped = anarepo(home, "upload", "--skip-existing", "--package-type", "file", "-p", "baby-names", "-v", "1", str(csv))
    assert skipped.returncode == 0 and "skipped" in skipped.stdout
    csv.write_text("name,count\nLiam,19\n")
    forced = anarepo(home, "upload", "--force", "--package-type", "file", "-p", "baby-names", "-v", "1", str(csv))
    assert forced.returncode == 0, forced.stderr
    assert "Liam" in harness_get(live, "/alice/baby-names")


def test_bad_uploads_are_refused_with_clear_errors(server, home, tmp_path):
    harness, _ = server
    bad_nb = tmp_path / "broken.ipynb"
    bad_nb.write_text("{not json")
    result = anarepo(home, "upload", str(bad_nb))
    assert result.returncode == 1 and "not a valid notebook" in result.stderr
    bad_env = tmp_path / "env.yml"
    bad_env.write_text("name: x\ndependencies: [a, b\n")
    result = anarepo(home, "upload", "--package-type", "env", str(bad_env))
    assert result.returncode == 1 and "malformed YAML" in result.stderr
    nothing = tmp_path / "what.bin"
    nothing.write_bytes(b"\x00\x01")
    result = anarepo(home, "upload", str(nothing))
    assert result.returncode == 1 and "could not detect the package type" in result.stderr
    with harness.root() as root:
        assert not {"broken", "x", "what"} & set(root.owners["alice"].packages.keys())


def test_not_logged_in(server, tmp_path):
    _, live = server
    result = subprocess.run([str(BIN / "anarepo"), "upload", "--url", f"{live.url}/api", "x.ipynb"],
                            env=client_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "not logged in" in result.stderr


def harness_get(live, path):
    import urllib.request

    with urllib.request.urlopen(live.url + path, timeout=30) as response:
        return response.read().decode()
